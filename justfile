# patchbay developer tasks (https://github.com/casey/just). Each recipe is a
# plain cargo/shell command, so the README's commands work without `just`.

# Serve on 127.0.0.1:8080 from ./data/patchbay.db
run:
    cargo run

# The whole test suite (SQLite and PostgreSQL black-box tests included)
test:
    cargo test --workspace

# Format check and lints, as CI runs them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# What CI runs
ci:
    bash .ci/run

# Start a local PostgreSQL on 127.0.0.1:5433 in ./data/pg for manual runs, then:
#   PATCHBAY_DATABASE_URL=postgres://postgres@127.0.0.1:5433/patchbay cargo run
pg:
    #!/usr/bin/env bash
    set -euo pipefail
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    dir="$PWD/data/pg"
    run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    if [ ! -d "$dir/data" ]; then
      mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
      run "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    fi
    run "$bin/pg_ctl" -D "$dir/data" -o "-p 5433 -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" start
    run "$bin/psql" -h 127.0.0.1 -p 5433 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='patchbay'" | grep -q 1 \
      || run "$bin/createdb" -h 127.0.0.1 -p 5433 -U postgres patchbay
    echo "PATCHBAY_DATABASE_URL=postgres://postgres@127.0.0.1:5433/patchbay"

# Stop the local PostgreSQL started by `just pg`
pg-stop:
    #!/usr/bin/env bash
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$PWD/data/pg/data" stop; else "$bin/pg_ctl" -D "$PWD/data/pg/data" stop; fi
