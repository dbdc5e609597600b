#!/usr/bin/env bash
# Regenerates the synthetic test logs in this directory with cmd/genlogs.
# Each case's counts.json is the generator's own account of what it wrote;
# detect_test.go checks the detector against it, and want.json (rewritten
# by `go test ./internal/detect -update`) against everything else.
set -euo pipefail
cd "$(dirname "$0")"
gen() { go run ../../../cmd/genlogs "$@"; }
mix=codered1=40,codered2=30,codered-unknown=10,nimda-root-exe=12,nimda-cmd-exe=18

mkdir -p combined common-gz iis iis-stripped fallback multi truncated-gz
# Apache combined in US Pacific daylight time, with junk and an over-long line.
gen -format combined -seed 1 -lines 2000 -probes $mix -zone -420 -junk 4 -long 1 -long-len 70000 \
	-o combined/input.log -manifest combined/counts.json
# Common format, gzip, in +0200.
gen -format common -seed 2 -lines 2000 -probes $mix -zone 120 -o common-gz/input.log.gz -manifest common-gz/counts.json
# IIS W3C with the #Fields changing halfway (and the date column with it).
gen -format iis-w3c -seed 3 -lines 2000 -probes $mix -junk 2 -o iis/input.log -manifest iis/counts.json
# IIS without cs-uri-query: Code Red I and II become "unknown variant".
gen -format iis-stripped -seed 4 -lines 2000 -probes $mix -o iis-stripped/input.log -manifest iis-stripped/counts.json
# A proxy log in no known format: the fallback finds the request lines.
gen -format fallback -seed 5 -lines 2000 -probes $mix -junk 3 -o fallback/input.log -manifest fallback/counts.json
# Two days of one server in two files, the second compressed; the test also
# reads them in reverse order and wants the same report.
gen -format combined -seed 6 -lines 1500 -probes $mix -start 2001-07-19T00:00:00Z -duration 24h -o multi/input-1.log
gen -format combined -seed 7 -lines 1500 -probes $mix -start 2001-07-20T00:00:00Z -duration 24h -o multi/input-2.log.gz
# A gzip cut in the middle: what was read is reported and the run fails.
gen -format combined -seed 8 -lines 3000 -probes $mix -o truncated-gz/full.log.gz -manifest truncated-gz/full-counts.json
head -c 20000 truncated-gz/full.log.gz > truncated-gz/input.log.gz
rm truncated-gz/full.log.gz

# Compression told by content (issue 12): the same logs in other wrappers,
# checked against the same counts.
mkdir -p xz bzip2-named-log zstd gzip-members gzip-trailing gzip-crc
xz -c combined/input.log > xz/input.log.xz && cp combined/counts.json xz/
bzip2 -c iis/input.log > bzip2-named-log/input.log && cp iis/counts.json bzip2-named-log/
gzip -dc common-gz/input.log.gz | zstd -q -c > zstd/input.log.zst && cp common-gz/counts.json zstd/
# Two gzip members (as `cat a.gz b.gz` makes): read whole.
head -n 1000 combined/input.log | gzip -n > gzip-members/input.log.gz
tail -n +1001 combined/input.log | gzip -n >> gzip-members/input.log.gz
cp combined/counts.json gzip-members/
# Junk after a complete member: every line read, then "trailing data".
{ gzip -nc vhost/input.log; echo "this is not gzip"; } > gzip-trailing/input.log.gz
# 4 KiB of a disk block overwritten in the middle. In a file this small
# the random bits end the deflate stream early and only the checksum
# tells (gzip -t says "crc error" too): the held-back end is dropped and
# the error says the member is damaged. (In a long member the decoder
# itself fails within a few KB; see internal/logread TestGzipMessages.)
gzip -nc combined/input.log > gzip-crc/input.log.gz
python3 -c '
import random, sys
p = "gzip-crc/input.log.gz"
b = bytearray(open(p, "rb").read())
r = random.Random(12)
at = len(b) // 2
b[at:at + 4096] = bytes(r.randrange(256) for _ in range(4096))
open(p, "wb").write(b)'
