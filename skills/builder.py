"""Builds the ask-sdk skill from its collaborators: a session factory, the menu, a clock.

The order matters to ask-sdk: request handlers are tried in registration order (the first
whose can_handle says yes wins), interceptors run in registration order, and the catch-all
exception handler is registered last.
"""

from __future__ import annotations

from typing import Any

from ask_sdk_core.skill_builder import SkillBuilder
from sqlalchemy.orm import Session, sessionmaker

from orders.clock import Clock, utc_now
from skills.handlers import INTENT_HANDLERS
from skills.handlers_launch import CatchAll, LaunchHandler, SessionEndedHandler
from skills.interceptors import LoadVisit, LogRequest, LogResponse, MenuSource, SaveVisit


def build_skill(
    *, sessions: sessionmaker[Session], menus: MenuSource, clock: Clock = utc_now
) -> Any:
    """The CustomSkill: launch, one handler per intent, session end, interceptors, catch-all.

    `menus(db)` gives the current catalog and its product index (server passes the catalog
    cache's snapshot). The skill keeps no state: everything lives in the database.
    """
    builder = SkillBuilder()
    builder.add_request_handler(LaunchHandler())
    for handler in INTENT_HANDLERS:
        builder.add_request_handler(handler())
    builder.add_request_handler(SessionEndedHandler())
    builder.add_global_request_interceptor(LogRequest())
    builder.add_global_request_interceptor(LoadVisit(sessions, menus, clock))
    builder.add_global_response_interceptor(SaveVisit())
    builder.add_global_response_interceptor(LogResponse())
    builder.add_exception_handler(CatchAll())
    return builder.create()
