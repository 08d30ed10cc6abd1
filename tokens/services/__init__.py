"""Writes on tokens. One module per kind: oauth_tokens, api_tokens, grants (codes, access and
refresh tokens), purge, events. Each function is `<entity>_<verb>(*, ...)`."""
