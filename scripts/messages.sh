#!/usr/bin/env bash
# Refresh the translation catalogues and compile them.
#
#   scripts/messages.sh          extract every gettext string under ztk/ into
#                                ztk/locale/{zh_Hans,en}/LC_MESSAGES/django.po, then compile .mo
#   scripts/messages.sh compile  only compile (after editing a .po by hand)
#
# Needs GNU gettext (xgettext, msgmerge, msgfmt) — only here, at build time: the compiled .mo
# files are committed, so the running app never needs gettext. After extracting, translate
# every new or fuzzy entry in the zh_Hans catalogue (remove the "#, fuzzy" flag once checked)
# and run this again; tests/web/test_i18n.py fails while anything is left untranslated.
set -euo pipefail
cd "$(dirname "$0")/.."
ZTK="$PWD/.venv/bin/ztk"
export ZTK_TESTING="${ZTK_TESTING:-1}"  # no var/secret_key or database needed for this

for tool in xgettext msgmerge msgfmt; do
  command -v "$tool" >/dev/null || { echo "messages.sh: $tool not found (apt-get install gettext)" >&2; exit 1; }
done

cd ztk
if [ "${1:-}" != "compile" ]; then
  "$ZTK" makemessages -l zh_Hans -l en --no-obsolete
fi
"$ZTK" compilemessages
cd ..

# Report what is still untranslated in the Chinese catalogue.
msgfmt --statistics -o /dev/null ztk/locale/zh_Hans/LC_MESSAGES/django.po
