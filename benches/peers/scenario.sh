# The one scenario definition for the peer benchmark (benches/peers/run.sh sources it, and so
# does every generator in gen/). Change the routing or a scenario here and every proxy's
# configuration follows.
#
# Routing: MusicShare's Traefik labels (tests/fixtures/musicshare/docker-compose.yml, kept in
# the repo's tests as the reference deployment): 9 routers over 7 services, PathPrefix rules,
# stripPrefix on 5 of them, `/upload` at priority 2 and the `frontend` catch-all at priority 1.
# Every service load-balances round robin over the same 2 upstream servers (UP_PORT1, UP_PORT2),
# so whichever router matches, the proxy does the same work. Sticky cookies and health checks
# from the labels are left out: the peers would each need their own equivalent, and neither is
# on the measured path of a plain request.

# One router per line: name | path prefixes (space-separated; several = `||`) | strip prefix
# ("-" for none) | priority ("-" = Traefik's default, the rule length) | service
ROUTERS=(
  "userservice|/api/users|/api/users|-|userservice"
  "music|/api/music|/api/music|-|music"
  "social|/api/social|/api/social|-|social"
  "social-docs|/swagger-ui /v3/api-docs|-|-|social"
  "notifications|/api/notifications|/api/notifications|-|notifications"
  "notifications-ws|/ws|-|-|notifications"
  "upload|/upload|-|2|upload"
  "formulario|/formulario-post|/formulario-post|-|formulario"
  "frontend|/|-|1|frontend"
)
# The services, in a stable order (each: round robin over the two upstream servers).
SERVICES=(userservice music social notifications upload formulario frontend)

# Scenarios: id | title | client | connections | request path | TLS (0/1)
#   client wrk     = HTTP/1.1 keep-alive;  wrk-close = a new connection per request
#   (`Connection: close`); h2load = HTTP/2 over TLS (ALPN h2), 10 streams per connection.
# The path goes through the `userservice` router (stripPrefix): /api/users/x reaches the
# upstream as /x (a 2-byte body, "ok"), /api/users/big as /big (a 1 MiB body).
SCENARIOS=(
  "a|small, keep-alive|wrk|64|/api/users/x|0"
  "b|new connection per request|wrk-close|32|/api/users/x|0"
  "c|1,000 connections|wrk|1000|/api/users/x|0"
  "d|1 MiB bodies|wrk|16|/api/users/big|0"
  "e|TLS, HTTP/1.1|wrk|64|/api/users/x|1"
  "f|TLS, HTTP/2|h2load|64|/api/users/x|1"
)
H2_STREAMS=10          # h2load -m: concurrent streams per HTTP/2 connection
BIG_BYTES=1048576      # the large body (scenario d)

# Splits a "a|b|c" line into the named variables (used by run.sh and the generators).
split_line() { # $1 = line, then variable names
  local line=$1; shift
  IFS='|' read -r "$@" <<<"$line"
}
