#!/usr/bin/env bash
# Text captures of every TUI tab, as Markdown, for the README's "Terminal UI" section.
# Runs the real binary in a private tmux server at 100x30, waits for the evaluation to finish,
# visits each tab and prints the screens. Usage:
#   scripts/tui-captures.sh [CONFIG [ECLIP ARGS...]] > captures.md   (default: fixtures/workbench.toml)
# Needs tmux, a built binary (target/release/eclip or target/debug/eclip, or $ECLIP_BIN) and ONNX
# Runtime where eclip finds it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cfg="${1:-$root/fixtures/workbench.toml}"
shift || true
extra="$*"
. "$root/scripts/eclip-bin.sh"
sock="eclip-captures-$$"
t() { tmux -L "$sock" -f /dev/null "$@"; }
trap 't kill-server 2>/dev/null || true' EXIT
t new-session -d -s cap -x 100 -y 30 -e "ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-}" "'$bin' --config '$cfg' $extra; sleep 60"
wait_for() { # text, seconds
  for _ in $(seq 1 $(( $2 * 5 ))); do
    t capture-pane -p -t cap | grep -qF -- "$1" && return 0
    sleep 0.2
  done
  echo "timed out waiting for '$1'" >&2; t capture-pane -p -t cap >&2; exit 1
}
wait_for "all jobs done" 900
shot() { # title
  sleep 0.5
  printf '\n<details><summary>%s</summary>\n\n```text\n' "$1"
  t capture-pane -p -t cap | sed -e 's/[[:space:]]*$//'
  printf '```\n\n</details>\n'
}
t send-keys -t cap 1; shot "1 Overview"
t send-keys -t cap 2; t send-keys -t cap /; t send-keys -t cap -l "enlarged cardiac silhouette"; t send-keys -t cap Enter
wait_for "prompt: enlarged" 20; shot "2 Zero-shot: a typed prompt, top images per model"
t send-keys -t cap Enter; wait_for "class probabilities" 20; shot "2 Zero-shot: an opened image, class probabilities of both models"
t send-keys -t cap Escape; t send-keys -t cap 3; t send-keys -t cap j; wait_for "image 2/" 20; shot "3 Retrieval: image to report"
t send-keys -t cap 4; shot "4 Linear probe"
t send-keys -t cap 5; shot "5 Geometry"
t send-keys -t cap 6; shot "6 RAG"
t send-keys -t cap '?'; shot "? help"
t send-keys -t cap Escape; t send-keys -t cap q
