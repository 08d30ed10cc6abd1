"""HTML/htmx pages of My Account (OAuth tokens, user API tokens) and Application → API Tokens."""
