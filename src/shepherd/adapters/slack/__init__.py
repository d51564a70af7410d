"""Slack: the only place Shepherd speaks Slack's formats.

`client` posts and updates messages, `blocks` renders neutral messages as mrkdwn and Block Kit,
`responses` answers a button press through its `response_url`, `identity` finds people by
email, and `interactions` and `signature` read what Slack sends (pure functions).
"""
