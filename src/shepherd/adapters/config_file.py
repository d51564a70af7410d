"""Reading `shepherd.yaml`: every problem with its location and line, none swallowed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from shepherd.domain.config import Location, Problem, ShepherdConfig, format_location, reference_problems


@dataclass(frozen=True)
class LocatedProblem:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path}: {self.message}{where}"


class ConfigError(Exception):
    def __init__(self, source: Path, problems: list[LocatedProblem]) -> None:
        self.source = source
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source}: {count}\n" + "\n".join(f"  {p}" for p in problems))


def load_config(path: Path) -> ShepherdConfig:
    """The validated config, or ConfigError listing every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            path, [LocatedProblem("(file)", f"not found: {path}; set SHEPHERD_CONFIG")]
        ) from None
    except OSError as exc:
        raise ConfigError(path, [LocatedProblem("(file)", f"cannot read: {exc}")]) from None
    return parse_config(text, source=path)


def parse_config(text: str, *, source: Path = Path("shepherd.yaml")) -> ShepherdConfig:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [LocatedProblem("(yaml)", f"not valid YAML: {problem}", line)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [LocatedProblem("(top level)", "expected a mapping with 'services'", 1)])
    try:
        config = ShepherdConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_from_pydantic(error, node) for error in exc.errors()]
        raise ConfigError(source, problems) from None
    located = [_locate(p, node) for p in reference_problems(config)]
    if located:
        raise ConfigError(source, located)
    return config


def _from_pydantic(error: Any, node: yaml.Node | None) -> LocatedProblem:
    location: Location = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = _unknown_key_message(location)
    elif error["type"] == "missing":
        message = "required, but missing"
    return _locate(Problem(location=location, message=message), node)


def _unknown_key_message(location: Location) -> str:
    key = str(location[-1])
    known = _known_keys(location[:-1])
    close = difflib.get_close_matches(key, known, n=1)
    hint = (
        f"; did you mean {close[0]!r}?" if close else (f"; known keys: {', '.join(known)}" if known else "")
    )
    return f"unknown key {key!r}{hint}"


def _known_keys(location: Location) -> list[str]:
    model: type[BaseModel] = ShepherdConfig
    for part in location:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        inner = getattr(annotation, "__args__", (annotation,))
        found = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if found is None:
            return []
        model = found
    return sorted(model.model_fields)


def _locate(problem: Problem, node: yaml.Node | None) -> LocatedProblem:
    """Follow the location through the YAML node tree to find its line."""
    line = None
    for part in problem.location:
        if node is None:
            break
        line = node.start_mark.line + 1
        node = _child(node, part)
    if node is not None:
        line = node.start_mark.line + 1
    return LocatedProblem(format_location(problem.location), problem.message, line)


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = key if isinstance(value, yaml.ScalarNode) and value.value == "" else value
                return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None
