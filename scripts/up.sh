#!/usr/bin/env bash
# Sets up (packages, build) and starts the appliance in the foreground. Arguments go to
# `postcore up`; with none it runs on the embedded hwprofiles/dev.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/postcore up "$@"
