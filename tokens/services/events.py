from django.db.models import Model

from config import metrics
from tokens.models import TokenEvent, TokenEventKind
from tokens.sql import save_new


def token_event_record(
    *,
    token_type: str,
    token_id: str,
    kind: TokenEventKind,
    user_id: str = "",
    client_id: str = "",
    detail: dict | None = None,
    saved_with: tuple[Model, ...] = (),
) -> TokenEvent:
    """Append one audit event. Never stores a secret. New rows in `saved_with` are inserted in
    the same statement (tokens.sql.save_new), first: the tokens an exchange issues."""
    event = TokenEvent(
        token_type=token_type,
        token_id=token_id,
        kind=kind,
        user_id=user_id or "",
        client_id=client_id or "",
        detail=detail or {},
    )
    save_new(*saved_with, event)
    metrics.token_event_count(token_type=token_type, kind=kind, detail=event.detail)
    return event
