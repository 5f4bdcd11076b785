#!/bin/bash
# astra-alerts set-up script: installs the Debian 12 packages a task needs,
# builds with meson and runs it.
#
#   ./setup.sh run     build, then start astra-alertd on the example config with
#                      a local signed-webhook receiver, and send it one event
#   ./setup.sh test    build and run every test suite
#   ./setup.sh bench   build and run the benchmarks
#   ./setup.sh deps    only install the packages
#
# Environment: BUILD_DIR (default: build), MESON_OPTIONS (extra `meson setup`
# options, e.g. "-Db_sanitize=address,undefined -Dwerror=true").
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"

BUILD_DIR=${BUILD_DIR:-build}
MESON_OPTIONS=${MESON_OPTIONS:-}

BUILD_PACKAGES=(
	meson ninja-build pkg-config gcc libc6-dev
	libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libssl-dev libsqlite3-dev check
)
# the tests verify signatures with the AstraNetmon docs' Python and Node snippets,
# list exported symbols with nm, build an out-of-tree plugin, and run private D-Bus
# buses (dbus-daemon, dbus-run-session) with `gdbus call` as an outside client, and
# check the installed service files with systemd-analyze, sysusers, tmpfiles and groff
TEST_PACKAGES=(python3 nodejs binutils dbus-daemon libglib2.0-bin groff-base man-db procps systemd)
# the demo runs its own D-Bus session bus so astra-alertctl can reach the daemon
RUN_PACKAGES=(curl dbus-daemon)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_packages() {
	local missing=()
	local pkg
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing Debian packages: ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { echo "setup.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
	if [ ! -f "$BUILD_DIR/build.ninja" ]; then
		say "configuring $BUILD_DIR"
		# shellcheck disable=SC2086
		meson setup "$BUILD_DIR" $MESON_OPTIONS
	elif [ -n "$MESON_OPTIONS" ]; then
		# shellcheck disable=SC2086
		meson configure "$BUILD_DIR" $MESON_OPTIONS
	fi
	say "building in $BUILD_DIR"
	ninja -C "$BUILD_DIR"
}

demo_event='{"event":"agent.status_changed","timestamp":"2025-12-17T10:30:00Z","data":{"agent_id":"agent-123","hostname":"server-01","previous_status":"online","current_status":"offline","tenant_id":"tenant-abc"}}'

cmd_run() {
	install_packages "${BUILD_PACKAGES[@]}" "${RUN_PACKAGES[@]}"
	build
	local state_dir=.state
	mkdir -p "$state_dir"

	# a private session bus for the demo: the system bus is for the installed service
	rm -f "$state_dir/bus-address"
	dbus-daemon --session --nofork --print-address=3 3>"$state_dir/bus-address" &
	local bus=$!
	for _ in $(seq 50); do [ -s "$state_dir/bus-address" ] && break; sleep 0.1; done
	local bus_address
	bus_address=$(head -n1 "$state_dir/bus-address")
	export DBUS_SESSION_BUS_ADDRESS=$bus_address

	say "starting the demo receiver: astra-alertctl listen on 127.0.0.1:8471"
	"$BUILD_DIR/core/cli/astra-alertctl" listen --port 8471 --secret demo-secret-change-me &
	local receiver=$!
	trap 'kill $receiver $bus 2>/dev/null || true' EXIT

	# once the daemon answers, send the AstraNetmon docs' example event and say what to try next
	(
		for _ in $(seq 100); do
			curl -fs http://127.0.0.1:8470/healthz >/dev/null 2>&1 && break
			sleep 0.1
		done
		curl -fsS -X POST -H 'Content-Type: application/json' --data "$demo_event" \
			http://127.0.0.1:8470/v1/reports >/dev/null || exit 0
		sleep 0.5
		cat >&2 <<-HELP

		$(printf '\033[1m')astra-alertd is running$(printf '\033[0m') on http://127.0.0.1:8470 (config data/astra-alertd.conf,
		webhooks in data/webhooks.d/, state in $state_dir/). The receiver above printed the signed
		event it got. Next, in another terminal:

		  # send an event of your own (any of the seven types; see data/schemas/)
		  curl -X POST http://127.0.0.1:8470/v1/reports -d '$demo_event'

		  # a report with a mistake gets a 400 naming the field
		  curl -X POST http://127.0.0.1:8470/v1/reports -d '{"event":"agent.registered","data":{}}'

		  # validate a config without starting;  reload after editing: kill -HUP \$(pidof astra-alertd)
		  $BUILD_DIR/core/daemon/astra-alertd --check-config -c data/astra-alertd.conf --plugin-dir $BUILD_DIR/plugins

		  # control it over D-Bus (this demo's own session bus)
		  export DBUS_SESSION_BUS_ADDRESS='$bus_address' ASTRA_ALERTCTL_BUS=session
		  $BUILD_DIR/core/cli/astra-alertctl status
		  $BUILD_DIR/core/cli/astra-alertctl deliveries
		  $BUILD_DIR/core/cli/astra-alertctl test demo --event speedtest.completed
		  $BUILD_DIR/core/cli/astra-alertctl monitor

		Stop with Ctrl-C.
		HELP
	) &

	say "starting astra-alertd in the foreground"
	"$BUILD_DIR/core/daemon/astra-alertd" --config data/astra-alertd.conf --bus=session \
		--state-dir "$state_dir" --plugin-dir "$BUILD_DIR/plugins"
}

cmd_test() {
	install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
	build
	say "running the test suites"
	meson test -C "$BUILD_DIR" --print-errorlogs --num-processes "$(nproc)"
}

cmd_bench() {
	install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
	build
	say "running the benchmarks"
	meson test -C "$BUILD_DIR" --benchmark --verbose
}

case "${1:-}" in
run) cmd_run ;;
test) cmd_test ;;
bench) cmd_bench ;;
deps) install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${RUN_PACKAGES[@]}" ;;
*)
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
