"""gunicorn settings of the web server (`make run`, docker-compose, the fault tests).

Command-line flags (--bind, --workers) override these. The request caps make hostile input a
4xx before Django sees it (issue 7, Hostile input); the timeouts bound how long any request
may hang while PostgreSQL or Redis is away.
"""

import gunicorn.http.message

# Request line (method + URL + version): 64 KiB. The API answers its own limits in its
# `{"type","message"}` shape (a list `filter` is at most 1 024 characters, which a client may
# percent-encode to 9 KiB), so gunicorn's HTML 414 must only meet lines no API call could be.
# gunicorn clamps this setting to a module constant (8 190 bytes; 0 would mean no bound at all,
# and its Python parser would buffer a line of any length), so the constant is raised with it,
# here in the master before any worker starts.
REQUEST_LINE_LIMIT = 64 * 1024
gunicorn.http.message.MAX_REQUEST_LINE = REQUEST_LINE_LIMIT
limit_request_line = REQUEST_LINE_LIMIT
# Headers: gunicorn answers 400 past these. 8 KiB per header fits any browser cookie set; 50
# headers is plenty.
limit_request_fields = 50
limit_request_field_size = 8190

# A worker stuck longer than this is killed and replaced; connect_timeout (DB_CONNECT_TIMEOUT)
# and the cache's socket timeout (CACHE_TIMEOUT) keep a healthy request far below it.
timeout = 30
graceful_timeout = 20
keepalive = 5
