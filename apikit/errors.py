"""The one JSON API error: `{"type": ..., "message": ...}` with its HTTP status (reference: Error schema)."""


class ApiError(Exception):
    status = 400

    def __init__(self, type: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message}


def validation_error(message: str) -> ApiError:
    return ApiError("Validation", message, status=400)


def not_found(what: str) -> ApiError:
    return ApiError("NotFound", f"{what} was not found", status=404)


def forbidden(message: str = "Insufficient permissions for this operation") -> ApiError:
    return ApiError("Forbidden", message, status=403)
