#!/usr/bin/env bash
# Install the tokenizer benchmark peers into the current Python environment.
#
#   bash benchmarks/setup.sh               # uses `python` on PATH
#   PYTHON=/path/to/python bash benchmarks/setup.sh
#
# Installs sentencepiece, tokenizers, rs-bytepiece and the reference
# bytepiece==0.6.3. The reference needs pyahocorasick compiled in *bytes* mode
# (AHOCORASICK_BYTES=1, from source); the wheels on PyPI are unicode mode and
# make bytepiece fail. --no-cache-dir and --force-reinstall make sure pip neither
# reuses a cached unicode-mode wheel nor keeps an installed unicode-mode copy.
# Needs only Python 3.11 + pip, a C compiler and access to PyPI.
set -euo pipefail

PYTHON="${PYTHON:-python}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"$PYTHON" -m pip install -r "$HERE/requirements.txt"
AHOCORASICK_BYTES=1 "$PYTHON" -m pip install --no-cache-dir --force-reinstall \
    --no-deps --no-binary pyahocorasick pyahocorasick==2.3.1
"$PYTHON" -m pip install --no-build-isolation bytepiece==0.6.3

"$PYTHON" - <<'PY'
import sys

import ahocorasick

if ahocorasick.unicode:
    sys.exit("pyahocorasick was built in unicode mode; bytepiece 0.6.3 needs bytes mode")
import bytepiece
import rs_bytepiece
import sentencepiece
import tokenizers

print("benchmark peers OK: bytepiece", bytepiece.__version__,
      "| sentencepiece", sentencepiece.__version__,
      "| tokenizers", tokenizers.__version__)
PY
