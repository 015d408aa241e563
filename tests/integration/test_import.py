"""`postcorectl import accounts` against a real `postcore up`: a 10,000-account
CommuniGate-style list goes in as one transaction, a second run changes nothing, a bad
line refuses the whole file with FILE:LINE:COLUMN, and the accounts answer RCPT."""
import os
import smtplib
import time
import unittest

from harness import Appliance


def rcpt(app, address):
    with smtplib.SMTP('127.0.0.1', app.smtp_port, timeout=30) as s:
        s.ehlo('client.example')
        s.mail('sender@outside.example')
        return s.rcpt(address)[0]


class ImportAccounts(unittest.TestCase):
    def setUp(self):
        self.app = Appliance().start()
        self.app.ctl('domain', 'add', 'example.com')
        # The domain reaches the dataplane with the next snapshot poll.
        deadline = time.monotonic() + 5
        while rcpt(self.app, 'postmaster@example.com') != 250:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def tearDown(self):
        self.app.finish()

    def write(self, name, text, newline='\n'):
        path = os.path.join(self.app.tmp.name, name)
        with open(path, 'w', newline=newline, encoding='utf-8') as f:
            f.write(text)
        return path

    def test_ten_thousand_accounts_in_one_transaction(self):
        rows = ['Name\tPassword\tRealName\tQuota\tMailToAll']
        rows += [f'user{i}\tpw{i}\tUser {i}\t{i % 5 + 1}M\tyes' for i in range(10000)]
        # As exported on Windows: CRLF, a BOM and a trailing Ctrl-Z.
        path = self.write('accounts.tsv', '\ufeff' + '\r\n'.join(rows) + '\r\n\x1a', newline='')
        dry = self.app.ctl('import', 'accounts', path, '--domain', 'example.com', '--dry-run')
        self.assertIn('10000 created, 0 updated, 0 unchanged (dry run', dry.stdout)
        self.assertEqual(rcpt(self.app, 'user5@example.com'), 550)  # the dry run changed nothing
        start = time.monotonic()
        first = self.app.ctl('import', 'accounts', path, '--domain', 'example.com')
        took = time.monotonic() - start
        self.assertEqual(first.stdout.strip(), '10000 created, 0 updated, 0 unchanged')
        self.assertIn('"MailToAll" is not imported', first.stderr)
        print(f'imported 10000 accounts in {took:.2f} s')
        second = self.app.ctl('import', 'accounts', path, '--domain', 'example.com')
        self.assertEqual(second.stdout.strip(), '0 created, 0 updated, 10000 unchanged')
        deadline = time.monotonic() + 5
        while rcpt(self.app, 'user9999@example.com') != 250:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(rcpt(self.app, 'user10000@example.com'), 550)
        shown = self.app.ctl('--json', 'account', 'show', 'user3@example.com').stdout
        self.assertIn('"quota_kb": 4096', shown)

    def test_bad_line_refuses_the_whole_file(self):
        path = self.write('bad.tsv', 'Name\tPassword\n# a comment\nok1\tx\n\nbad name\ty\nok2\tz\n')
        r = self.app.ctl('import', 'accounts', path, '--domain', 'example.com', check=False)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith(f'postcorectl: {path}:5:4: '), r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        self.assertEqual(rcpt(self.app, 'ok1@example.com'), 550)

    def test_no_break_spaces_are_named(self):
        path = self.write('web.tsv', 'Name\u00a0Password\nalice\u00a0x\n')
        r = self.app.ctl('import', 'accounts', path, '--domain', 'example.com', check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn('no-break space', r.stderr)

    def test_unknown_domain_fails_as_a_whole(self):
        path = self.write('other.tsv', 'Name\tPassword\nalice@example.com\tx\nbob@nowhere.test\ty\n')
        r = self.app.ctl('import', 'accounts', path, check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f'{path}:3', r.stderr)
        self.assertEqual(rcpt(self.app, 'alice@example.com'), 550)


# `openssl passwd -6 -salt saltsalt secret` and `openssl passwd -1 -salt abc secret`.
SHA512_CRYPT = '$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1'
MD5_CRYPT = '$1$abc$iCQ2D3nhptRYi27fDYv2s1'


class ImportPasswdAndExport(ImportAccounts):
    # Only the tests below; the inherited ones already ran in ImportAccounts.
    test_ten_thousand_accounts_in_one_transaction = None
    test_bad_line_refuses_the_whole_file = None
    test_no_break_spaces_are_named = None
    test_unknown_domain_fails_as_a_whole = None

    def test_passwd_and_shadow(self):
        passwd = self.write('passwd', '\n'.join([
            'root:x:0:0:root:/root:/bin/bash',
            'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
            'alice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/bash',
            'bob:x:1001:1001:Bob:/home/bob:/usr/sbin/nologin',
            'carol:x:1002:1002:Carol:/home/carol:/bin/sh',
            'dave:x:1003:1003:Dave:/home/dave:/bin/bash',
        ]) + '\n')
        shadow = self.write('shadow', '\n'.join([
            'root:*:19000:0:99999:7:::',
            'daemon:*:19000:0:99999:7:::',
            f'alice:{SHA512_CRYPT}:19000:0:99999:7:::',
            f'bob:{MD5_CRYPT}:19000:0:99999:7:::',
            f'carol:!{MD5_CRYPT}:19000:0:99999:7:::',
            'dave::19000:0:99999:7:::',
        ]) + '\n')
        r = self.app.ctl('import', 'passwd', passwd, '--shadow', shadow, '--domain', 'example.com')
        self.assertEqual(r.stdout.strip(), '1 created, 0 updated, 0 unchanged')
        for login in ('bob', 'carol', 'dave'):
            self.assertIn(login, r.stderr)  # every skipped login user is reported
        exported = self.app.ctl('export', 'accounts', '--domain', 'example.com').stdout
        self.assertEqual(exported, 'Name\tUnixPassword\tRealName\tQuota\n'
                         f'alice@example.com\t{SHA512_CRYPT}\tAlice Liddell\tunlimited\n')

    def test_export_imports_back_unchanged(self):
        rows = ['Name\tPassword\tUnixPassword\tRealName\tQuota',
                'ann\tpw1\t\tAnn\t2M', f'ben\t\t{MD5_CRYPT}\tBen\t',
                f'cid\t\t{SHA512_CRYPT}\tCid C\tunlimited']
        self.app.ctl('import', 'accounts', self.write('in.tsv', '\n'.join(rows) + '\n'),
                     '--domain', 'example.com')
        exported = self.app.ctl('export', 'accounts').stdout
        self.assertIn(f'ben@example.com\t{MD5_CRYPT}\tBen\tunlimited', exported)
        self.assertIn('ann@example.com\t{SSHA512}', exported)
        again = self.app.ctl('import', 'accounts', self.write('out.tsv', exported))
        self.assertEqual(again.stdout.strip(), '0 created, 0 updated, 3 unchanged')

    def test_aliases_file(self):
        self.app.ctl('account', 'add', 'alice@example.com')
        self.app.ctl('account', 'add', 'bob@example.com')
        path = self.write('aliases', '\n'.join([
            '# /etc/aliases from the old server',
            'postmaster: alice',
            'al: alice',
            'ext: someone@elsewhere.example',
            'team: alice, bob,',
            '  someone@elsewhere.example',
            'prog: "|/usr/bin/vacation bob"',
            'list: :include:/etc/mail/list',
            'bob: \\bob, Bob@Home.example',
        ]) + '\n')
        dry = self.app.ctl('import', 'aliases', path, '--domain', 'example.com', '--dry-run')
        self.assertIn('(dry run', dry.stdout)
        r = self.app.ctl('import', 'aliases', path, '--domain', 'example.com')
        self.assertEqual(r.stdout.strip(), '4 created, 1 updated, 0 unchanged')
        self.assertIn(f'{path}:7:', r.stderr)  # |command: listed with its line, not imported
        self.assertIn(f'{path}:8:', r.stderr)  # :include: likewise
        again = self.app.ctl('import', 'aliases', path, '--domain', 'example.com')
        self.assertEqual(again.stdout.strip(), '0 created, 0 updated, 5 unchanged')
        # bob keeps his mail and a copy goes to his old home address.
        shown = self.app.ctl('account', 'show', 'bob@example.com').stdout
        self.assertIn('copies to: Bob@home.example', shown)
        members = self.app.ctl('group', 'show', 'team@example.com').stdout
        self.assertIn('member:    bob@example.com', members)
        self.assertIn('member:    someone@elsewhere.example', members)
        deadline = time.monotonic() + 5
        while rcpt(self.app, 'al@example.com') != 250:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(rcpt(self.app, 'ext@example.com'), 250)
        self.assertEqual(rcpt(self.app, 'prog@example.com'), 550)
        with smtplib.SMTP('127.0.0.1', self.app.smtp_port, timeout=30) as s:
            s.sendmail('sender@outside.example', ['bob@example.com'], b'Subject: x\r\n\r\nx\r\n')
        targets = [(t['kind'], t['address'])
                   for t in self.app.spool_list()[0]['recipients'][0]['targets']]
        self.assertEqual(targets, [('local', 'bob@example.com'), ('remote', 'Bob@home.example')])

    def test_copies_need_the_account(self):
        path = self.write('aliases', 'carol: \\carol, carol@elsewhere.example\n')
        r = self.app.ctl('import', 'aliases', path, '--domain', 'example.com', check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.strip().splitlines()[-1],
                         f'postcorectl: {path}:1: carol keeps a copy of its mail, but no such '
                         'account: carol@example.com (import the accounts before the aliases)')


if __name__ == '__main__':
    unittest.main()
