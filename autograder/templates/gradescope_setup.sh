#!/usr/bin/env bash
# Builds the grading image of this autograder: Gradescope runs it once, as root, on its default
# Ubuntu 22.04 base image. It installs Python @PYTHON_VERSION@ (Ubuntu's package when the image
# lacks it; on other Ubuntu releases the deadsnakes archive's) and, in a virtual environment,
# exactly the pins of requirements.txt, torch's CPU-only build included. Nothing else: no R
# libraries, no browser, no LaTeX or pandoc (PDF export is off), no conda. run_autograder runs
# the zip's entry point with that environment.
# AUTOGRADER_ROOT and OTTER_ENV move the paths for a trial run outside Gradescope.
set -euo pipefail

root="${AUTOGRADER_ROOT:-/autograder}"
env_dir="${OTTER_ENV:-/root/otter-env}"
python="python@PYTHON_VERSION@"

install_python() {
    apt-get install -y --no-install-recommends "$python" "$python-venv"
}

if ! "$python" -m venv "$env_dir" 2>/dev/null; then
    rm -rf "$env_dir"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    if ! install_python; then
        # Ubuntu releases other than 22.04 (20.04, 24.04) package another Python: take this one
        # from the deadsnakes archive, which builds it for every Ubuntu LTS.
        apt-get install -y --no-install-recommends software-properties-common gpg-agent
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update
        install_python || {
            echo "setup.sh: no $python package for this base image; choose Ubuntu 22.04" >&2
            exit 1
        }
    fi
    rm -rf /var/lib/apt/lists/*
    "$python" -m venv "$env_dir"
fi
"$env_dir/bin/python" -m pip install --no-cache-dir --disable-pip-version-check \
    -r "$root/source/requirements.txt"
