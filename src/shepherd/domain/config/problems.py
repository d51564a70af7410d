"""What is wrong with a config, and where: located problems, as `config check` prints them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

Location = tuple[str | int, ...]


class Problem(BaseModel):
    """One thing wrong with the config, and where."""

    model_config = ConfigDict(frozen=True)
    location: Location
    message: str

    @property
    def path(self) -> str:
        return format_location(self.location)


def format_location(location: Location) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
