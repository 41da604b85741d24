#!/usr/bin/env bash
# Make the seed corpora of the fuzz targets (docs/fuzzing.md) in tests/fuzz_corpus/<target>/.
# The committed seeds were made with this script; run it again only to change them.
#
#   tests/fuzz_corpus/make_seeds.sh BUILD_DIR
#
# BUILD_DIR holds a built segscore (generate, import and config make the valid inputs).
# The crafted HDF5 edge cases need python3-h5py (scripts/install-deps with SGS_WITH_PEERS=1).
# Regressions (tests/fuzz_corpus/<target>/regressions/) are not touched.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
segscore="$(cd "${1:?usage: make_seeds.sh BUILD_DIR}" && pwd)/segscore"
corpus="$root/tests/fuzz_corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- h5_input: files from the project's own writers, then crafted edge cases -------------
# The writers' chunks are sized for millions of rows; h5repack re-lays the few rows out
# small (contiguous, or 2-row chunks), and only the input groups are kept (not /truth).
out="$corpus/h5_input"
mkdir -p "$out"
rm -f "$out"/*.h5
shrink() { # shrink IN OUT [h5repack layout options]: the input groups of IN, repacked
    local in=$1 dst=$2
    shift 2
    h5repack -l CONTI "$in" "$tmp/conti.h5"
    rm -f "$tmp/groups.h5"
    for g in transactions events customers; do
        if h5ls "$tmp/conti.h5/$g" >/dev/null 2>&1; then
            h5copy -i "$tmp/conti.h5" -o "$tmp/groups.h5" -s "/$g" -d "/$g"
        fi
    done
    h5repack "$@" "$tmp/groups.h5" "$dst"
    rm -f "$tmp/conti.h5" "$tmp/groups.h5"
}
"$segscore" generate --customers 2 --seed 1 --prospects 0.5 --compression 0 --threads 1 -q \
    -o "$tmp/generate.h5"
shrink "$tmp/generate.h5" "$out/generate-2-customers.h5"
"$segscore" generate --customers 1 --seed 2 --no-events --prospects 0 --threads 1 -q \
    -o "$tmp/generate-no-events.h5"
shrink "$tmp/generate-no-events.h5" "$out/generate-no-events-chunked.h5" -l CHUNK=2 -f SHUF \
    -f GZIP=1
printf 'customer,time,amount,channel,category\n1,2024-01-02,10.5,web,3\n1,2024-02-01,-2,store,\n2,2023-12-31T23:00:00Z,7,2,1\n' \
    >"$tmp/small.csv"
"$segscore" import -i "$tmp/small.csv" -o "$tmp/import.h5" --customer customer --time time \
    --amount amount --channel channel --category category --threads 1 -q
shrink "$tmp/import.h5" "$out/import-channel-category.h5"
shrink "$tmp/import.h5" "$out/import-deflate-chunked.h5" -l CHUNK=2 -f GZIP=1
py=python3
/usr/bin/python3 -c 'import h5py' 2>/dev/null && py=/usr/bin/python3
"$py" "$corpus/make_h5_seeds.py" "$out"

# ---- csv_import: byte 0 options, byte 1 delimiter and buffer, [column line], text --------
# byte 0: bits 0-2 time format (0 auto 1 iso 2 yyyymmdd 3 mdy 4 dmy 5 unix), bit 3
# whitespace, bits 4-5 header (0 auto 1 yes 2 no), bit 6 column line, bit 7 skip bad rows.
# byte 1: bits 0-1 delimiter (0 ',' 1 ';' 2 TAB 3 '|'), bits 2-7 small buffer - 2.
out="$corpus/csv_import"
mkdir -p "$out"
rm -f "$out"/seed-*
seed() { printf "$2" >"$out/seed-$1"; }
# positions, no header, ISO times (auto)
seed positions '\x00\x14''1,2024-01-02,10.5\n1,2024-02-01 10:00,-2\n2,2023-12-31T23:00:00Z,7\n'
# a header, names, channel and category, CRLF line ends
seed names-crlf '\x40\x0c''customer\ttime\tamount\tchannel\tcategory\ncustomer,time,amount,channel,category\r\n17850.0,2010-12-01 08:26:00,15.3,web,3\r\n17850,2010-12-01 08:28:00,"1,5",store,\r\n,2010-12-02,3,app,1\r\n'
# the online-retail shape: Quantity*UnitPrice, quoted fields with delimiters and quotes
seed online-retail '\x43\x08''CustomerID|Customer ID\tInvoiceDate\tQuantity*UnitPrice|Price\nInvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,12/1/2010 8:26,2.55,17850,United Kingdom\n536366,22633,"HAND WARMER ""UNION"" JACK, RED",6,12/1/2010 8:28 PM,1.85,17850,United Kingdom\nC536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom\n'
# the CDNOW shape: whitespace, YYYYMMDD, amount in column 4
seed cdnow '\x0a\x00''1\t4\n00001 19970101  1  11.77\n00002 19970112  1  12.00\n00002 19970112  5  77.00\n   00003 19970102  2  20.76\n'
# semicolon, day first, header given, bad rows skipped
seed dmy-semicolon '\x9c\x11''id;when;value\n7;9/12/2011 12:50;1.5e2\n8;31.12.2011;2\nx;1/1/2011;3\n9;1/1/1969;4\n'
# unix seconds, tab, a BOM, a quoted newline, blank lines
seed unix-tab-bom '\x25\x06''\xef\xbb\xbfcust\tt\tamt\n\n1\t1700000000\t3.25\n"2"\t1700086400\t"4\n"\n\n3\t1700172800\t-0\n'
# pipe, offsets, an unclosed quote at the end
seed pipe-unclosed '\x01\x03''1|2024-03-10T01:30+05:30|1\n2|2024-03-10 23:59:59.999 -08|2\n3|"2024-01-01|3\n'

# ---- config: a JSON file (the effective defaults, a small file) or --set lines -----------
out="$corpus/config"
mkdir -p "$out"
rm -f "$out"/seed-*
printf '{}' >"$tmp/empty.json"
"$segscore" config -c "$tmp/empty.json" >"$out/seed-effective-defaults.json"
printf '{"time_unit": "week", "as_of": "2024-06-30", "rfm": {"bins": 4},\n "value": {"model": "bgnbd", "horizon": 52.5, "backtest": false},\n "segments": {"k": 0, "features": "recency,frequency,clv"}, "seed": 7}\n' \
    >"$out/seed-small.json"
printf '{"rfm": {"bins": 10}, "as_of": "2024-02-30", "output": {"report": null}}\n' \
    >"$out/seed-errors.json"
printf 'rfm.bins=4\ntime_unit=week\nas_of=2024-06-30\nvalue.margin=0.25\nseed=18446744073709551615\nsegments.enabled=false\noutput.report=r.txt\n' \
    >"$out/seed-set-lines.txt"

# ---- dates: one date or time per file -----------------------------------------------------
out="$corpus/dates"
mkdir -p "$out"
rm -f "$out"/seed-*
n=0
for text in '2024-02-29' '1970-01-01' '9999-12-31' '2023-02-29' '2024-06-30T12:34:56Z' \
    '2010-12-01 08:26:00.123 +05:30' '2024-1-5 7:05 UTC' '19970101' '12/9/2011 12:50 PM' \
    '31.12.2011' '1700000000' '  2024-03-10T01:30-0800  '; do
    n=$((n + 1))
    printf '%s' "$text" >"$out/seed-$n"
done
echo "seeds written under $corpus"
