"""SMTP AUTH on the submission service against a real `postcore up`: accounts imported
with legacy hashes log in with their old passwords (PLAIN and LOGIN), the first login
stores the password again as yescrypt through the control plane, wrong or disabled
logins get 535, MAIL needs AUTH on submission, an authenticated client may relay, and
failed logins slow an address down and then refuse it, while its account stays open to
everyone else."""
import base64
import hashlib
import os
import smtplib
import subprocess
import time
import unittest

from harness import Appliance


def ssha(password, salt):
    digest = hashlib.sha1(password.encode() + salt).digest()
    return '{SSHA}' + base64.b64encode(digest + salt).decode()


def md5_crypt(password, salt):
    return subprocess.run(['openssl', 'passwd', '-1', '-salt', salt, password],
                          capture_output=True, text=True, check=True).stdout.strip()


# The tests below fail logins on purpose; only LoginThrottling counts them.
NO_THROTTLE = {'failures_before_delay = 3 ': 'failures_before_delay = 100000 ',
               'failures_before_refusal = 30 ': 'failures_before_refusal = 100000 '}


def dev_profile(throttle=None, **replace):
    with open(os.path.join(os.path.dirname(__file__), '..', '..', 'hwprofiles', 'dev.toml')) as f:
        text = f.read()
    for old, new in list((throttle or NO_THROTTLE).items()) + list(replace.items()):
        assert old in text, old
        text = text.replace(old, new)
    return text


class SubmissionAuth(unittest.TestCase):
    profile_text = dev_profile()

    def setUp(self):
        self.app = Appliance(profile_text=self.profile_text).start()
        app = self.app
        app.ctl('domain', 'add', 'example.com', '--alias', 'example.net')
        self.hashes = {'alice': md5_crypt('alice-old', 'saltsalt'),
                       'bob': ssha('bob-old', b'\x01\x02\x03\x04')}
        path = os.path.join(app.tmp.name, 'accounts.tsv')
        with open(path, 'w') as f:
            f.write('Name\tUnixPassword\tRealName\n')
            f.write(f'alice\t{self.hashes["alice"]}\tAlice\n')
            f.write(f'bob\t{self.hashes["bob"]}\tBob\n')
        app.ctl('import', 'accounts', path, '--domain', 'example.com')
        app.ctl('account', 'add', 'carol@example.com', '--password', 'carol-pw',
                '--services', 'imap')
        app.ctl('alias', 'add', 'al@example.com', 'alice')
        self.wait_login('bob@example.com', 'bob-old')

    def tearDown(self):
        log = self.app.finish()
        for secret in ('alice-old', 'bob-old', 'carol-pw', 'wrong-pw'):
            self.assertNotIn(secret, log)

    def submission(self, source='127.0.0.1'):
        s = smtplib.SMTP('127.0.0.1', self.app.submission_port, timeout=30,
                         source_address=(source, 0))
        s.ehlo('client.example')
        return s

    def login(self, user, password, mechanism='PLAIN', source='127.0.0.1'):
        """The SMTP reply code of one AUTH attempt."""
        with self.submission(source) as s:
            s.user, s.password = user, password
            auth = s.auth_plain if mechanism == 'PLAIN' else s.auth_login
            try:
                return s.auth(mechanism, auth)[0]
            except smtplib.SMTPAuthenticationError as e:
                return e.smtp_code

    def wait_login(self, user, password, deadline=5.0):
        # Accounts reach the dataplane with the next snapshot.
        end = time.monotonic() + deadline
        while self.login(user, password) != 235:
            self.assertLess(time.monotonic(), end, self.app.read_log())
            time.sleep(0.05)

    def exported_hash(self, name):
        out = self.app.ctl('export', 'accounts', '--domain', 'example.com').stdout
        for line in out.splitlines()[1:]:
            fields = line.split('\t')
            if fields[0] == f'{name}@example.com':
                return fields[1]
        raise AssertionError(f'{name} not exported:\n{out}')

    def wait_hash(self, name, prefix, deadline=5.0):
        end = time.monotonic() + deadline
        while not self.exported_hash(name).startswith(prefix):
            self.assertLess(time.monotonic(), end, self.app.read_log())
            time.sleep(0.05)
        return self.exported_hash(name)


class RehashOnLogin(SubmissionAuth):
    def test_legacy_hashes_log_in_and_are_stored_again_as_yescrypt(self):
        self.assertEqual(self.exported_hash('alice'), self.hashes['alice'])
        self.assertEqual(self.login('alice@example.com', 'wrong-pw'), 535)
        self.assertEqual(self.exported_hash('alice'), self.hashes['alice'])
        self.assertEqual(self.login('ALICE@example.NET', 'alice-old', 'LOGIN'), 235)
        new_hash = self.wait_hash('alice', '$y$')
        self.assertIn('account.rehash', self.app.ctl('audit').stdout)
        # The new hash holds the same password, from the next snapshot on.
        self.wait_hash('bob', '$y$')  # bob logged in during setUp
        end = time.monotonic() + 5
        while True:
            self.assertEqual(self.login('al@example.com', 'alice-old'), 235)
            if 'password stored again' in self.app.read_log():
                break
            self.assertLess(time.monotonic(), end)
            time.sleep(0.05)
        self.assertEqual(self.login('alice@example.com', 'alice-old', 'LOGIN'), 235)
        self.assertEqual(self.exported_hash('alice'), new_hash)  # no second rehash
        self.assertEqual(self.login('alice@example.com', 'alice-old-x'), 535)

    def test_refusals_and_mail_needs_auth(self):
        self.assertEqual(self.login('carol@example.com', 'carol-pw'), 535)  # SMTP disabled
        self.assertEqual(self.login('nobody@example.com', 'wrong-pw'), 535)
        self.assertEqual(self.login('bob', 'bob-old'), 535)  # no domain
        with self.submission() as s:
            self.assertIn('PLAIN', s.esmtp_features.get('auth', ''))
            self.assertIn('LOGIN', s.esmtp_features.get('auth', ''))
            code, _ = s.mail('bob@example.com')
            self.assertEqual(code, 530)
        with smtplib.SMTP('127.0.0.1', self.app.smtp_port, timeout=30) as s:
            s.ehlo('client.example')
            self.assertNotIn('auth', s.esmtp_features)  # port 25 takes no passwords

    def test_authenticated_client_relays_and_the_envelope_names_it(self):
        with self.submission() as s:
            s.login('bob@example.net', 'bob-old')
            s.sendmail('bob@example.com', ['friend@elsewhere.example'],
                       b'Subject: out\r\n\r\nhello\r\n')
        with smtplib.SMTP('127.0.0.1', self.app.smtp_port, timeout=30) as s:
            s.ehlo('client.example')
            s.mail('bob@example.com')
            self.assertEqual(s.rcpt('friend@elsewhere.example')[0], 554)  # anonymous: no relay
        messages = self.app.spool('list', '--json').stdout
        self.assertIn('"friend@elsewhere.example"', messages)
        shown = self.app.spool('show', self.app.spool_list()[0]['queue_id'], '--json').stdout
        self.assertIn('"auth_user":"bob@example.com"', shown.replace(' ', ''))


class NoRehash(SubmissionAuth):
    profile_text = dev_profile(**{'rehash_on_login = true': 'rehash_on_login = false'})

    def test_setting_keeps_the_legacy_hash(self):
        self.assertEqual(self.login('alice@example.com', 'alice-old'), 235)
        self.assertEqual(self.login('bob@example.com', 'bob-old'), 235)
        time.sleep(1)
        self.assertEqual(self.exported_hash('alice'), self.hashes['alice'])
        self.assertEqual(self.exported_hash('bob'), self.hashes['bob'])


class NoPlaintext(SubmissionAuth):
    profile_text = dev_profile(**{'plaintext = "loopback"': 'plaintext = "never"'})

    def wait_login(self, user, password, deadline=5.0):
        pass

    def test_no_auth_offered_without_encryption(self):
        with self.submission() as s:
            self.assertNotIn('auth', s.esmtp_features)
            self.assertEqual(s.mail('bob@example.com')[0], 530)


if __name__ == '__main__':
    unittest.main()


class LoginThrottling(SubmissionAuth):
    """Small numbers, so that the waits stay short: from the 2nd failure on answers wait
    (at most 0.3 s); the 4th failure from one address gets it refused."""
    profile_text = dev_profile(throttle={
        'failures_before_delay = 3 ': 'failures_before_delay = 2 ',
        'max_login_delay_ms = 15000 ': 'max_login_delay_ms = 300 ',
        'failures_before_refusal = 30 ': 'failures_before_refusal = 4 '})
    next_source = 10

    def fresh_source(self):
        LoginThrottling.next_source += 1
        return f'127.0.0.{LoginThrottling.next_source}'

    def wait_login(self, user, password, deadline=15.0):
        # Until the snapshot arrives the account is unknown: each try from its own address,
        # so that none of them is refused.
        end = time.monotonic() + deadline
        while self.login(user, password, source=self.fresh_source()) != 235:
            self.assertLess(time.monotonic(), end, self.app.read_log())
            time.sleep(0.05)

    def test_an_address_with_too_many_failures_is_refused_and_only_it(self):
        attacker = self.fresh_source()
        for _ in range(4):
            self.assertEqual(self.login('alice@example.com', 'wrong-pw', source=attacker), 535)
        # Refused now, even with the right password: nothing is checked.
        self.assertEqual(self.login('alice@example.com', 'alice-old', source=attacker), 454)
        self.assertEqual(self.login('bob@example.com', 'bob-old', source=attacker), 454)
        self.assertIn('too many failed logins', self.app.read_log())
        # Alice is not locked out: from anywhere else her password works.
        self.assertEqual(self.login('alice@example.com', 'alice-old',
                                    source=self.fresh_source()), 235)

    def test_an_account_attacked_from_many_addresses_is_never_refused(self):
        for _ in range(6):  # 18 failures for bob, 3 per address: none of them refused
            source = self.fresh_source()
            for _ in range(3):
                self.assertEqual(self.login('bob@example.com', 'wrong-pw', source=source), 535)
        self.assertEqual(self.login('bob@example.com', 'bob-old', source=self.fresh_source()), 235)

    def test_a_success_clears_the_count_of_its_address(self):
        source = self.fresh_source()
        for _ in range(3):
            self.assertEqual(self.login('alice@example.com', 'wrong-pw', source=source), 535)
        self.assertEqual(self.login('alice@example.com', 'alice-old', source=source), 235)
        for _ in range(3):  # 6 failures in all, but 3 since the success
            self.assertEqual(self.login('alice@example.com', 'wrong-pw', source=source), 535)
        self.assertEqual(self.login('alice@example.com', 'alice-old', source=source), 235)
