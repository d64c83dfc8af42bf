#!/usr/bin/python3
"""Pick the most coverage-increasing fuzzer-found inputs for the committed corpus.

  tests/fuzz/pick_inputs.py TARGET_EXE CORPUS_DIR SCRATCH_DIR [--max 20] [--dry-run]

Runs `TARGET_EXE -merge=1 -merge_control_file=...` with a fresh copy of
CORPUS_DIR as the merge output and SCRATCH_DIR as input, reads the features
libFuzzer records for every file, then greedily picks up to --max scratch
inputs, each time the one adding the most features not yet covered by the
committed corpus plus the inputs already picked. The picks are copied into
CORPUS_DIR named by their SHA-1 (as libFuzzer names them).
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def parse_control(path):
    with open(path) as f:
        lines = f.read().splitlines()
    n = int(lines[0])
    first = int(lines[1])
    files = lines[2:2 + n]
    feats = {}
    for line in lines[2 + n:]:
        parts = line.split()
        if parts and parts[0] == "FT":
            feats[int(parts[1])] = set(int(x) for x in parts[2:])
    return files, first, feats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("corpus")
    ap.add_argument("scratch")
    ap.add_argument("--max", type=int, default=20)
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        shutil.copytree(a.corpus, out)
        cf = os.path.join(tmp, "control")
        subprocess.run([os.path.abspath(a.exe), "-merge=1", "-merge_control_file=" + cf,
                        "-rss_limit_mb=4096", out, os.path.abspath(a.scratch)],
                       cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        files, first, feats = parse_control(cf)
    covered = set()
    for i in range(first):
        covered |= feats.get(i, set())
    base = len(covered)
    cand = {i: feats.get(i, set()) for i in range(first, len(files))}
    picked = []
    while len(picked) < a.max and cand:
        best = max(cand, key=lambda i: (len(cand[i] - covered), -os.path.getsize(files[i])))
        gain = len(cand[best] - covered)
        if gain == 0:
            break
        picked.append((files[best], gain))
        covered |= cand.pop(best)
    print("%s: corpus %d features, %d scratch inputs, %d picked, +%d features"
          % (os.path.basename(a.exe), base, len(files) - first, len(picked), len(covered) - base))
    for path, gain in picked:
        data = open(path, "rb").read()
        name = hashlib.sha1(data).hexdigest()
        print("  +%-4d %5d bytes  %s" % (gain, len(data), name))
        if not a.dry_run:
            with open(os.path.join(a.corpus, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    sys.exit(main())
