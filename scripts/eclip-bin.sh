# Sourced by the scripts that run a built workbench (gallery.sh, tui-captures.sh): sets `bin` to
# $ECLIP_BIN, else target/release/eclip, else target/debug/eclip (under $CARGO_TARGET_DIR when set),
# and stops with a message naming what to do when none exists. Needs `root` (the repository).
bin="${ECLIP_BIN:-}"
if [ -z "$bin" ]; then
  for b in "${CARGO_TARGET_DIR:-$root/target}/release/eclip" "${CARGO_TARGET_DIR:-$root/target}/debug/eclip"; do
    [ -x "$b" ] && bin="$b" && break
  done
fi
[ -n "$bin" ] || { echo "no eclip binary: run cargo build first or set ECLIP_BIN" >&2; exit 1; }
