#!/usr/bin/env bash
# Writes corpus/NAME.imap: what Dovecot 2.3 (Debian 12) answers to FETCH BODYSTRUCTURE,
# BODY and ENVELOPE for corpus/NAME.eml, and every BODY[section] (with .MIME, .HEADER,
# .TEXT) it answers with something for. The unit test compares the parser with these, so
# it needs no Dovecot itself. Run it again after adding a corpus message.
#
# The Debian packages are only unpacked (apt-get download, dpkg -x) into a temporary
# directory: nothing is installed and no service is started. Dovecot's imap process runs
# preauthenticated on a pipe, on a Maildir of the corpus, with a config of its own, and
# ends when the script logs out. As root it runs as nobody (Dovecot refuses root).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && apt-get download -q dovecot-core dovecot-imapd >/dev/null 2>&1)
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done
libs="$work/root/usr/lib/dovecot"

mkdir -p "$work/mail/cur" "$work/mail/new" "$work/mail/tmp"
i=0
for eml in "$here"/corpus/*.eml; do
  i=$((i + 1))
  # Maildir names that sort in corpus order, so UIDs follow it.
  cp "$eml" "$work/mail/cur/$((1700000000 + i)).M${i}P1.corpus:2,S"
done

user=$(id -un)
prefix=()
if [ "$(id -u)" = 0 ]; then
  user=nobody
  prefix=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chmod 755 "$work"
  chown -R 65534 "$work/mail"
fi
cat >"$work/dovecot.conf" <<CONF
mail_location = maildir:$work/mail
base_dir = $work/run
state_dir = $work/state
log_path = $work/log
ssl = no
first_valid_uid = 0
default_login_user = $user
default_internal_user = $user
CONF
chmod 644 "$work/dovecot.conf"

export IMAP_COMMAND="${prefix[*]} env USER=$user HOME=$work LD_LIBRARY_PATH=$libs \
$work/root/usr/bin/doveconf -c $work/dovecot.conf -e $libs/imap"
python3 - "$here/corpus" <<'PY'
import imaplib, os, sys

corpus = sys.argv[1]
names = sorted(n for n in os.listdir(corpus) if n.endswith('.eml'))

def raw(data):
    # imaplib splits a response around its literals; put them back as sent.
    out = b''
    for item in data:
        if isinstance(item, tuple):
            out += item[0] + b'\r\n' + item[1]
        elif item is not None:
            out += item
    return out

def fetch(imap, seq, item):
    typ, data = imap.fetch(str(seq), '(%s)' % item)
    assert typ == 'OK', (typ, data)
    text = raw(data)
    prefix = b'%d (%s ' % (seq, item.replace('.PEEK', '').encode())
    assert text.startswith(prefix) and text.endswith(b')'), text[:80]
    return text[len(prefix):-1]

def section_value(imap, seq, section):
    text = fetch(imap, seq, 'BODY.PEEK[%s]' % section)
    if text.startswith(b'{'):
        return text[text.index(b'\r\n') + 2:]
    if text == b'NIL':
        return b''
    assert text.startswith(b'"') and text.endswith(b'"'), text
    return text[1:-1].replace(b'\\"', b'"').replace(b'\\\\', b'\\')

# Part numbers to ask for: every path of up to three numbers from 1 to 4, and deeper
# chains of 1s for the nested corpus messages.
numbers = ['.'.join(map(str, p)) for p in
           [(a,) for a in range(1, 5)] +
           [(a, b) for a in range(1, 5) for b in range(1, 5)] +
           [(a, b, c) for a in range(1, 5) for b in range(1, 5) for c in range(1, 5)]]
numbers += ['.'.join(['1'] * n) for n in range(4, 7)]
sections = ['HEADER', 'TEXT'] + [n + suffix for n in numbers
                                 for suffix in ('', '.MIME', '.HEADER', '.TEXT')]

def escape(value):
    out = ''
    for b in value:
        c = chr(b)
        if c == '\\':
            out += '\\\\'
        elif c == '\r':
            out += '\\r'
        elif c == '\n':
            out += '\\n'
        elif 0x20 <= b < 0x7f:
            out += c
        else:
            out += '\\x%02x' % b
    return out

imap = imaplib.IMAP4_stream(os.environ['IMAP_COMMAND'])
typ, data = imap.select('INBOX', readonly=True)
assert int(data[0]) == len(names), data
for seq, name in enumerate(names, 1):
    with open(os.path.join(corpus, name), 'rb') as f:
        message = f.read()
    # Dovecot serves bare LF as CRLF and NUL as 0x80; the message must be the one we
    # think it is.
    served = fetch(imap, seq, 'BODY.PEEK[]')
    served = served[served.index(b'\r\n') + 2:] if served.startswith(b'{') else served
    expected = message.replace(b'\r\n', b'\n').replace(b'\0', b'\x80')
    assert served.replace(b'\r\n', b'\n') == expected or not message, name
    lines = ['# Dovecot 2.3 answers for %s (make_fixtures.sh)' % name]
    for item in ('BODYSTRUCTURE', 'BODY', 'ENVELOPE'):
        lines.append('%s %s' % (item, escape(fetch(imap, seq, item))))
    for section in sections:
        value = section_value(imap, seq, section)
        if value:
            lines.append('BODY[%s] %s' % (section, escape(value)))
    with open(os.path.join(corpus, name[:-4] + '.imap'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
imap.logout()
print('wrote %d fixtures' % len(names))
PY
