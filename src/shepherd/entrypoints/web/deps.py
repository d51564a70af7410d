"""Request dependencies: the app container. Who may call what is in auth.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shepherd.bootstrap import Shepherd


def get_shepherd(request: Request) -> Shepherd:
    shepherd: Shepherd = request.app.state.shepherd
    return shepherd


ShepherdDep = Annotated[Shepherd, Depends(get_shepherd)]
