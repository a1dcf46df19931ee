#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The deployment checks of scripts/check-deploy.sh (its header lists them;
the checks are the deploy_checks package beside this file).

    check_deploy.py CARD_SERVER CARD_STRESS CARDCTL

Run it through scripts/check-deploy.sh: that wrapper runs it from the
repository root (it reads deploy/), makes sure CARD_SERVER exists and installs
python3-yaml when missing. CARD_STRESS and CARDCTL may be empty strings.
Exit 0: all checks hold; 1: problems (listed on stderr); 2: CARD_SERVER lists
no flags. Debian's /usr/bin/python3, standard library and python3-yaml only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploy_checks.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:4]))
