"""Request dependencies: the app container. Who may call what is in auth.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from shepherd.bootstrap import Shepherd
from shepherd.domain.ids import MAX_ID


def get_shepherd(request: Request) -> Shepherd:
    shepherd: Shepherd = request.app.state.shepherd
    return shepherd


ShepherdDep = Annotated[Shepherd, Depends(get_shepherd)]


# A row id in a path: a positive 63-bit integer (larger ones cannot name a row): 422 otherwise.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
