#!/usr/bin/env bash
# The Gradescope image, tried outside Gradescope: a clean root laid out as /autograder, the
# zip's own setup.sh (its virtual environment and pins, from the network or this machine's pip
# configuration), then the zip's own run_autograder on a notebook with nothing of this
# machine's environment but /usr/bin and /bin. It needs the zip's Python (python3.11) on PATH.
#   bash tests/gradescope_image_trial.sh dist/01_perceptron_xor-autograder.zip \
#       dist/01_perceptron_xor-solutions.ipynb [ROOT]
# Exits 0 when the notebook scores full marks. Too slow for `make test` (minutes: it installs
# torch and the rest into a fresh environment); the cheap checks of setup.sh are
# tests/test_gradescope_image.py.
set -euo pipefail
zip=$(realpath "$1")
notebook=$(realpath "$2")
root=$(realpath -m "${3:-$(mktemp -d /tmp/gradescope-image-XXXXXX)}")
rm -rf "$root"
mkdir -p "$root/submission" "$root/results"
unzip -q "$zip" -d "$root/source"
echo '{}' >"$root/submission_metadata.json"
cp "$notebook" "$root/submission/"

started=$(date +%s)
# An index that does not answer is skipped at once rather than retried (offline machines).
AUTOGRADER_ROOT="$root" OTTER_ENV="$root/env" PIP_RETRIES="${PIP_RETRIES:-0}" \
    bash "$root/source/setup.sh" >"$root/setup.log" 2>&1 || {
    tail -20 "$root/setup.log"
    exit 1
}
built=$(date +%s)
env -i PATH=/usr/bin:/bin HOME="$root" LANG=C.UTF-8 AUTOGRADER_ROOT="$root" \
    OTTER_ENV="$root/env" bash "$root/source/run_autograder" >"$root/grading.log" 2>&1 || true
graded=$(date +%s)

echo "setup.sh $((built - started)) s, run_autograder $((graded - built)) s, in $root"
[ -f "$root/results/results.json" ] || {
    tail -20 "$root/grading.log"
    exit 1
}
python3 - "$root/results/results.json" <<'PY'
import json, sys

results = json.load(open(sys.argv[1]))
scored = [t for t in results["tests"] if t.get("max_score") is not None]
score = sum(t["score"] for t in scored)
possible = sum(t["max_score"] for t in scored)
print(f"score {score:g}/{possible:g}")
sys.exit(0 if possible and score == possible else 1)
PY
