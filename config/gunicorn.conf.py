"""gunicorn settings of the web server (`make run`, docker-compose, the fault tests).

Command-line flags (--bind, --workers) override these. The request caps make hostile input a
4xx before Django sees it (issue 7, Hostile input); the timeouts bound how long any request
may hang while PostgreSQL or Redis is away.
"""

# Request line (method + URL + version) and headers: gunicorn answers 400 (414 for the line)
# past these. 8 KiB per header fits any browser cookie set; 50 headers is plenty.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# A worker stuck longer than this is killed and replaced; connect_timeout (DB_CONNECT_TIMEOUT)
# and the cache's socket timeout (CACHE_TIMEOUT) keep a healthy request far below it.
timeout = 30
graceful_timeout = 20
keepalive = 5
