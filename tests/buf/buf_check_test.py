#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""scripts/buf-check.sh, as a test: the compatibility gate must refuse what
docs/compatibility.md forbids and pass what it allows.

Each case builds a throwaway git repository holding this repository's
buf.yaml and proto/ as its first commit, commits one change to the proto on
top, and runs scripts/buf-check.sh (the real buf binary from scripts/node)
pointed at that repository, which compares the change with its parent.

Usage: buf_check_test.py --source=REPO_ROOT [unittest arguments]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None
PROTO = os.path.join("proto", "devcard", "card", "v1", "card_service.proto")
GIT_ENV = {"GIT_AUTHOR_NAME": "buf-check test", "GIT_AUTHOR_EMAIL": "test@localhost",
           "GIT_COMMITTER_NAME": "buf-check test", "GIT_COMMITTER_EMAIL": "test@localhost",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def edit_message(text, message, old, new):
    """Replaces `old` with `new` inside `message NAME { ... }` only, so that the
    edit cannot land in another message that happens to have the same line."""
    block = re.search(rf"^message {message} {{\n.*?^}}", text, re.M | re.S)
    assert block, f"no message {message} in the proto"
    assert old in block[0], f"{old!r} not in message {message}"
    return text[:block.start()] + block[0].replace(old, new, 1) + text[block.end():]


def edit_block(text, start, old, new):
    """The same for the `enum NAME {` or `service NAME {` block starting with `start`."""
    block = re.search(rf"^{re.escape(start)} {{\n.*?^}}", text, re.M | re.S)
    assert block, f"no {start} in the proto"
    assert old in block[0], f"{old!r} not in {start}"
    return text[:block.start()] + block[0].replace(old, new, 1) + text[block.end():]


class BufCheckTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="buf-check-test.")
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.repo = os.path.join(self.work, "repo")
        os.mkdir(self.repo)
        shutil.copy(os.path.join(ARGS.source, "buf.yaml"), self.repo)
        shutil.copytree(os.path.join(ARGS.source, "proto"), os.path.join(self.repo, "proto"),
                        ignore=shutil.ignore_patterns("CMakeLists.txt"))

    def git(self, *args):
        subprocess.run(["git", "-C", self.repo, *args], check=True, capture_output=True,
                       env={**os.environ, **GIT_ENV})

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def change_proto(self, edit):
        path = os.path.join(self.repo, PROTO)
        with open(path, encoding="utf-8") as f:
            before = f.read()
        after = edit(before)
        self.assertNotEqual(after, before)
        with open(path, "w", encoding="utf-8") as f:
            f.write(after)

    def buf_check(self):
        """(exit code, stdout + stderr) of scripts/buf-check.sh on the repo."""
        script = os.path.join(ARGS.source, "scripts", "buf-check.sh")
        env = {k: v for k, v in os.environ.items() if k != "BUF_AGAINST_REF"}
        result = subprocess.run(["bash", script, self.repo], capture_output=True, text=True,
                                env=env, timeout=240)
        return result.returncode, result.stdout + result.stderr

    def check_commit(self, edit, message):
        """Commits the current proto, then `edit` of it, and runs the gate."""
        self.git("init", "-q", "-b", "main")
        self.commit("the API as it is")
        self.change_proto(edit)
        self.commit(message)
        return self.buf_check()

    def assert_refused(self, edit, message, *named):
        code, output = self.check_commit(edit, message)
        self.assertEqual(code, 100, output)  # buf's exit code for findings
        self.assertIn("buf lint clean", output)  # so it is breaking that refused
        self.assertNotIn("buf breaking clean", output)
        for word in named:
            self.assertIn(word, output)
        return output

    # What docs/compatibility.md allows.

    def test_adding_a_field_passes(self):
        code, output = self.check_commit(
            lambda t: edit_message(t, "Card", "  string etag = 12;",
                                   "  string etag = 12;\n  string nickname = 13;"),
            "Card.nickname")
        self.assertEqual(code, 0, output)
        self.assertIn("buf breaking clean against HEAD~1", output)

    def test_adding_an_enum_value_and_an_rpc_passes(self):
        def edit(text):
            text = edit_block(text, "enum Visibility", "  VISIBILITY_PRIVATE = 3;",
                              "  VISIBILITY_PRIVATE = 3;\n  VISIBILITY_TEAM = 4;")
            text = edit_block(text, "service CardService",
                              "  rpc GetCard(GetCardRequest) returns (Card);",
                              "  rpc GetCard(GetCardRequest) returns (Card);\n"
                              "  rpc CountCards(CountCardsRequest) returns (CountCardsResponse);")
            return (text + "\nmessage CountCardsRequest {\n  string user_id = 1;\n}\n"
                    "\nmessage CountCardsResponse {\n  int32 count = 1;\n}\n")
        code, output = self.check_commit(edit, "a new value, a new RPC")
        self.assertEqual(code, 0, output)
        self.assertIn("buf breaking clean", output)

    # What it forbids.

    def test_renaming_a_field_is_refused(self):
        # Same number and type, so binary clients would not notice: the JSON
        # name is what breaks (grpcurl and buf curl users).
        output = self.assert_refused(
            lambda t: edit_message(t, "Card", "  string title = 3;", "  string headline = 3;"),
            "rename Card.title", '"title"', '"headline"')
        self.assertRegex(output, r"card_service\.proto:\d+:\d+:")

    def test_changing_a_field_number_is_refused(self):
        self.assert_refused(
            lambda t: edit_message(t, "Card", "  string slug = 5;", "  string slug = 15;"),
            "renumber Card.slug", '"5"', '"slug"')

    def test_renaming_an_enum_value_is_refused(self):
        self.assert_refused(
            lambda t: edit_block(t, "enum Visibility", "VISIBILITY_PRIVATE = 3;",
                                 "VISIBILITY_HIDDEN = 3;"),
            "rename VISIBILITY_PRIVATE", '"VISIBILITY_PRIVATE"', '"VISIBILITY_HIDDEN"')

    def test_deleting_an_rpc_is_refused(self):
        # Not in buf's WIRE_JSON category: buf.yaml adds RPC_NO_DELETE.
        self.assert_refused(
            lambda t: edit_block(
                t, "service CardService",
                "  rpc DeletePlatformLink(DeletePlatformLinkRequest) returns "
                "(google.protobuf.Empty);\n", ""),
            "drop DeletePlatformLink", '"DeletePlatformLink"')

    def test_a_lint_finding_fails_before_breaking_runs(self):
        code, output = self.check_commit(
            lambda t: edit_block(t, "enum Visibility", "  VISIBILITY_PRIVATE = 3;",
                                 "  VISIBILITY_PRIVATE = 3;\n  TEAM = 4;"),
            "unprefixed enum value")
        self.assertEqual(code, 100, output)
        self.assertIn('Enum value name "TEAM" should be prefixed with "VISIBILITY_"', output)
        self.assertNotIn("buf lint clean", output)

    # Where there is nothing to compare with.

    def test_first_commit_skips_breaking_only(self):
        self.git("init", "-q", "-b", "main")
        self.commit("the API as it is")
        code, output = self.buf_check()
        self.assertEqual(code, 0, output)
        self.assertIn("buf lint clean", output)
        self.assertIn("no commit HEAD~1", output)
        self.assertIn("breaking check skipped", output)

    def test_no_git_skips_breaking_only(self):
        code, output = self.buf_check()
        self.assertEqual(code, 0, output)
        self.assertIn("buf lint clean", output)
        self.assertIn("not a git work tree: breaking check skipped", output)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
