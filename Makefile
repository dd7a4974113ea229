# pylon: the two commands are `make run` and `make test`.
.PHONY: run test check bench bench-router bench-peers

run:            ## build (release) and start pylon with conf/pylon.toml and its demo upstream
	scripts/run.sh

test:           ## install what is missing, then fmt, clippy and every test
	scripts/test.sh

check:          ## validate conf/pylon.toml without starting
	cargo run --quiet --bin pylon -- check --config conf/pylon.toml

bench-router:   ## criterion: router lookup at 10 / 1,000 / 10,000 routers
	cargo bench --bench router_lookup

bench:          ## load benchmark: pylon vs bare Pingora vs nginx (wrk, one core each)
	benches/load/run.sh

bench-peers:    ## pylon vs nginx, HAProxy, Caddy (Traefik if installed): MusicShare routing, 6 scenarios
	benches/peers/run.sh
