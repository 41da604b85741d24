# cmake/help2man.awk — one man page (roff, man macros) from the program's own --help text,
# so that `segscore <command> --help` stays the one source of what a command accepts.
# Run by cmake/man_pages.cmake at build time; docs/building.md says what it produces.
#
#   awk -v cmd=run -v version="segscore 0.1.0" -v desc="..." -f help2man.awk TOP CMD
#
# TOP is the output of `segscore --help` (the command list: each page's one-line summary and
# the SEE ALSO list); CMD the output of `segscore <cmd> --help`, or TOP again with cmd empty
# for segscore(1). The help text is read as the programs print it:
#   - "usage: ..." and the lines indented under it: SYNOPSIS;
#   - a line indented by up to 7 spaces that starts with "-": an option, its name up to the
#     first run of two spaces, its description after it and on the lines indented under it;
#     other indented lines inside an option list: a note between options;
#   - "commands:" and the lines under it: COMMANDS (segscore(1) only);
#   - a line starting "Exit status:" and the rest of its paragraph: EXIT STATUS;
#   - any other paragraph: DESCRIPTION, or after the options, more of OPTIONS.
# Layout the parser does not know still reaches the page as text, never dropped.

# roff escapes: backslash first, then '-' as a minus (so that options copy as typed), and a
# leading '.' or '\'' must not read as a request.
function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.']/)
        s = "\\&" s
    return s
}

# An option's name: words starting with '-' in bold, the rest (values) in italics.
function term(s,    n, w, i, out, sep, tail) {
    n = split(s, w, / +/)
    out = ""
    for (i = 1; i <= n; i++) {
        sep = (i > 1) ? " " : ""
        tail = ""
        if (w[i] ~ /,$/) {
            tail = ","
            sub(/,$/, "", w[i])
        }
        if (w[i] ~ /^-/)
            out = out sep "\\fB" esc(w[i]) "\\fR" tail
        else
            out = out sep "\\fI" esc(w[i]) "\\fR" tail
    }
    return out
}

function indent_of(s) {
    match(s, /^ */)
    return RLENGTH
}

function trim(s) {
    sub(/^ +/, "", s)
    sub(/ +$/, "", s)
    return s
}

# Start section `name` unless it is the current one.
function section(name) {
    if (cur != name) {
        print ".SH " name
        cur = name
        para = 0
    }
}

# Plain text: a new paragraph after a blank line of the help.
function text(s) {
    if (!para) {
        print ".PP"
        para = 1
    }
    print esc(trim(s))
}

# ---- the command list, from TOP ------------------------------------------------------------
FNR == NR {
    if ($0 ~ /^commands:/) {
        in_list = 1
        next
    }
    if (in_list && $0 ~ /^ *$/)
        in_list = 0
    if (in_list && $0 ~ /^  +[a-z]/) {
        line = trim($0)
        name = line
        sub(/ .*/, "", name)
        summary = line
        sub(/^[^ ]+ +/, "", summary)
        n_cmds++
        cmds[n_cmds] = name
        summaries[name] = summary
    }
    next
}

FNR == 1 {
    page = (cmd == "") ? "segscore" : "segscore-" cmd
    upper = toupper(page)
    print ".\\\" " page "(1): generated from `segscore" (cmd == "" ? "" : " " cmd) \
        " --help` by cmake/help2man.awk; edit the help text, not this file."
    cur = ""
    print ".TH \"" upper "\" \"1\" \"\" \"" version "\" \"segscore manual\""
    print ".SH NAME"
    if (cmd == "")
        print "segscore \\- " esc(desc)
    else if (cmd in summaries)
        print esc(page) " \\- " esc(summaries[cmd])
    else
        print esc(page)
    state = "start"
}

# ---- the page, from CMD ----------------------------------------------------------------
{
    line = $0
    sub(/\r$/, "", line)
}

line ~ /^ *$/ {
    if (state == "usage" || state == "commands" || state == "exit")
        state = "text"
    if (in_nf) {
        print ".fi"
        in_nf = 0
    }
    para = 0
    next
}

line ~ /^usage: / {
    section("SYNOPSIS")
    print ".nf"
    in_nf = 1
    sub(/^usage: +/, "", line)
    print esc(line)
    state = "usage"
    next
}

state == "usage" {
    print esc(trim(line))
    next
}

line ~ /^commands:/ {
    section("COMMANDS")
    state = "commands"
    next
}

state == "commands" {
    t = trim(line)
    name = t
    sub(/ .*/, "", name)
    summary = t
    sub(/^[^ ]+ +/, "", summary)
    print ".TP"
    print "\\fB" esc(name) "\\fR"
    print esc(summary)
    next
}

line ~ /^Exit status:/ {
    section("EXIT STATUS")
    state = "exit"
    text(line)
    next
}

state == "exit" {
    text(line)
    next
}

# An option: "  -i, --input PATH    description" or "  --p P --q Q --gamma G" alone. The
# name ends at the first run of two spaces; without one (a name as long as its column),
# after the words that start with '-' and the values in capitals that follow them.
line ~ /^ +-/ && indent_of(line) <= 7 {
    section("OPTIONS")
    state = "options"
    t = trim(line)
    name = t
    rest = ""
    if (match(t, /  +/)) {
        gap_at = RSTART
        gap_len = RLENGTH
        name = substr(t, 1, gap_at - 1)
        rest = substr(t, gap_at + gap_len)
        desc_col = indent_of(line) + gap_at - 1 + gap_len
    } else {
        n = split(t, w, / /)
        name = ""
        for (i = 1; i <= n && (w[i] ~ /^-/ || w[i] ~ /^[A-Z][A-Z0-9_.*|=\[\]-]*$/); i++)
            name = name (i > 1 ? " " : "") w[i]
        rest = substr(t, length(name) + 2)
        desc_col = indent_of(line) + 4 # the description follows on deeper lines
        if (rest != "")
            desc_col = indent_of(line) + length(name) + 1
    }
    print ".TP"
    print term(name)
    if (rest != "")
        print esc(rest)
    para = 1
    next
}

# Lines indented under an option continue its description; an indented line that is not
# (a note about several options) becomes a paragraph of its own.
state == "options" && line ~ /^ / {
    if (indent_of(line) >= desc_col - 2) {
        print esc(trim(line))
    } else {
        print ".PP"
        print esc(trim(line))
        desc_col = indent_of(line)
    }
    next
}

{
    if (cur == "" || cur == "SYNOPSIS")
        section("DESCRIPTION")
    if (state == "options") {
        state = "after"
        para = 0
    }
    text(line)
}

END {
    if (in_nf)
        print ".fi"
    print ".SH SEE ALSO"
    see = ""
    if (cmd != "")
        see = "\\fBsegscore\\fR(1)"
    for (i = 1; i <= n_cmds; i++) {
        if (cmds[i] == cmd)
            continue
        see = see (see == "" ? "" : ",\n") "\\fBsegscore\\-" esc(cmds[i]) "\\fR(1)"
    }
    print see
    print ".PP"
    print "The manual: docs/ in the source tree, starting from README.md."
}
