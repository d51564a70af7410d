"""Block Kit rendering: markup, escaping and Slack's size limits; the client's proxy choice."""

import pytest

from shepherd.adapters.console_notifier import rendered
from shepherd.adapters.slack.blocks import MAX_BLOCKS, attachments, blocks, mrkdwn, plain
from shepherd.adapters.slack.client import SlackNotifier
from shepherd.domain.notify import (
    ROLLBACK,
    Button,
    CodeBlock,
    Confirm,
    Field,
    Link,
    Message,
    Section,
    Tone,
    code,
    emphasis,
    join,
    link,
    mention,
    strong,
    text,
)


def test_links_and_mentions_become_slack_markup_and_peoples_words_are_escaped() -> None:
    line = text(mention("Ana Lima", "U01ANA"), " fixed <script> & ", link("https://gh/pr/12", "PR #12"))
    assert mrkdwn(line) == "<@U01ANA> fixed &lt;script&gt; &amp; <https://gh/pr/12|PR #12>"
    assert plain(line) == "@Ana Lima fixed <script> & PR #12 (https://gh/pr/12)"
    assert rendered(line) == "@Ana Lima fixed <script> & PR #12 <https://gh/pr/12>"


def test_markup_in_peoples_words_stays_words() -> None:
    subject = text("Fix [docs](https://evil) for <@U999> *now*")
    assert mrkdwn(subject) == "Fix [docs](https://evil) for &lt;@U999&gt; *now*"
    assert mrkdwn(link("https://x", "a|b <c>")) == "<https://x|a¦b &lt;c&gt;>"


def test_emphasis_fields_and_code_blocks() -> None:
    line = text(strong("error ratio"), " ", emphasis("maybe"), " ", code("a<b"))
    assert mrkdwn(line) == "*error ratio* _maybe_ `a&lt;b`"
    assert mrkdwn(Field(strong("p99") + " (critical)", text("up"))) == "*p99* (critical): up"
    assert mrkdwn(CodeBlock("exit <1>")) == "```exit &lt;1&gt;```"
    assert mrkdwn(join(["a", strong("b")], " · ")) == "a · *b*"
    assert rendered(line) == "[bold]error ratio[/] [italic]maybe[/] [cyan]a<b[/]"


def test_message_layout_with_colour_buttons_and_footer() -> None:
    message = Message(
        title=text("t"),
        text=text("fallback"),
        tone=Tone.DANGER,
        status=text("❌ failed"),
        sections=(Section(text("Your changes"), (text("a"), text("b"))),),
        buttons=(Button("shepherd_ack", "👀 I'm watching", "7", "primary"),),
        footer=(text("nobody yet"),),
        overflow=Link("https://shepherd/deploys/7", "+3 more changes"),
    )
    (attachment,) = attachments(message)
    assert attachment["color"] == "#e01e5a"
    kinds = [b["type"] for b in attachment["blocks"]]
    assert kinds == ["section", "section", "section", "context", "actions"]
    assert attachment["blocks"][1]["text"]["text"] == "*Your changes*\na\nb"
    assert "<https://shepherd/deploys/7|+3 more changes>" in attachment["blocks"][2]["text"]["text"]
    button = attachment["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"], button["style"]) == ("shepherd_ack", "7", "primary")


def test_limits_fifty_blocks_and_three_thousand_characters() -> None:
    many = tuple(Section(text(f"person {i}"), (text("x" * 200),) * 20) for i in range(80))
    big = text("big")
    message = Message(
        title=big, text=big, sections=many, buttons=(Button("a", "A", "1"),), footer=(text("f"),)
    )
    out = blocks(message)
    assert len(out) == MAX_BLOCKS
    assert out[-1]["type"] == "actions" and out[-2]["type"] == "context"
    assert "size limit" in out[-3]["text"]["text"]
    assert all(len(b["text"]["text"]) <= 3000 for b in out if "text" in b)
    huge = blocks(Message(title=text("x"), text=text("x"), sections=(Section(None, (text("y" * 5000),)),)))
    assert len(huge[1]["text"]["text"]) == 3000 and huge[1]["text"]["text"].endswith("…")


T = text("t")


def test_the_rollback_button_asks_for_confirmation_first() -> None:
    confirm = Confirm(
        title="Roll back?",
        text=text("Roll ", link("https://x", "checkout"), " → production back from abc1234 to 0123456?"),
        ok="Roll back",
    )
    message = Message(title=T, text=T, buttons=(Button(ROLLBACK, "↩ Roll back", "7", "danger", confirm),))
    (button,) = next(b for b in blocks(message) if b["type"] == "actions")["elements"]
    assert button["action_id"] == "rollback" and button["value"] == "7" and button["style"] == "danger"
    assert button["confirm"] == {
        "title": {"type": "plain_text", "text": "Roll back?", "emoji": True},
        "text": {
            "type": "plain_text",
            "text": "Roll checkout (https://x) → production back from abc1234 to 0123456?",
            "emoji": True,
        },
        "confirm": {"type": "plain_text", "text": "Roll back", "emoji": True},
        "deny": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "style": "danger",
    }
    plain_button = blocks(Message(title=T, text=T, buttons=(Button("a", "A", "1"),)))[-1]["elements"][0]
    assert "confirm" not in plain_button


def test_confirmation_dialogs_respect_block_kit_limits() -> None:
    confirm = Confirm(title="T" * 150, text=text("x" * 500), ok="O" * 40, deny="D" * 40)
    (button,) = blocks(Message(title=T, text=T, buttons=(Button(ROLLBACK, "R", "1", None, confirm),)))[-1][
        "elements"
    ]
    dialog = button["confirm"]
    assert len(dialog["title"]["text"]) == 100 and dialog["title"]["text"].endswith("…")
    assert len(dialog["text"]["text"]) == 300
    assert len(dialog["confirm"]["text"]) == 30 and len(dialog["deny"]["text"]) == 30
    assert dialog["style"] == "primary"  # only a danger button gets a red confirm


def test_slack_client_honours_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    local = SlackNotifier(token="xoxb-1", base_url="http://127.0.0.1:9/api/")
    remote = SlackNotifier(token="xoxb-1", base_url="https://slack.com/api/")
    assert local._client.proxy is None
    assert remote._client.proxy == "http://proxy.internal:3128"
