#!/usr/bin/env bash
# Layering (style.md rule 3, architecture invariant 7): mailbox/ and policy/
# never include cas/; proto/ includes only proto/ (and system headers);
# third-party headers are included by their one wrapper file.
set -u
cd "$(dirname "$0")/../.."
status=0
fail() { echo "layering: $*" >&2; status=1; }

for f in $(git ls-files 'mailbox/*.[ch]' 'policy/*.[ch]' 'net/*.[ch]' 'proto/*.[ch]'); do
	if grep -nE '#include[[:space:]]+"cas/' "$f" >/dev/null; then
		fail "$f includes cas/"
	fi
done
for f in $(git ls-files 'proto/*.[ch]' 'policy/*.[ch]'); do
	if grep -nE '#include[[:space:]]+"(mailbox|net|cas|tools)/' "$f" >/dev/null; then
		fail "$f includes a daemon module"
	fi
done
for f in $(git ls-files 'proto/*.[ch]'); do
	if grep -nE '#include[[:space:]]+"policy/' "$f" >/dev/null; then
		fail "$f (proto/) includes policy/"
	fi
done
# One wrapper per third-party library (style.md rule 2).
check_wrapper() {
	local header=$1 allowed=$2
	for f in $(git grep -lE "#include[[:space:]]+<$header" -- '*.c' '*.h' ':!tests/*'); do
		[[ "$f" =~ $allowed ]] || fail "$f includes <$header> (only $allowed may)"
	done
}
check_wrapper 'sqlite3\.h' '^mailbox/store(_[a-z]+)?\.c$'
check_wrapper 'gmime/' '^mailbox/mime(_[a-z]+)?\.c$'
check_wrapper 'microhttpd\.h' '^cas/http(_[a-z]+)?\.c$'
check_wrapper 'curl/' '^mailbox/submit\.c$|^tools/easctl_probe\.c$'
check_wrapper 'libical/|<ical\.h' '^mailbox/ical\.c$'
check_wrapper 'wbxml\.h' '^tests/'
exit $status
