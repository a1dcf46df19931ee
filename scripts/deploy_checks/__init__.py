# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
"""The deployment checks of scripts/check-deploy.sh (its header lists them),
one module per kind of file:

    findings    problems and notes, keyed by message, with where each was found
    programs    what card-server / card-stress / cardctl --helpfull say: their
                flags, which are boolean, the default --shutdown_grace; and the
                final pass that has each binary parse the flags given to it
    commands    who gets which --flag: shell-ish words of any line, YAML walked
                for commands and flagfiles, durations
    server      what every card-server invocation must satisfy (listen beyond
                loopback only with mutual TLS; probes that speak it)
    dockerfile, compose, kubernetes, systemd
                the checks particular to each
    grafana     the dashboards' and Prometheus rules' PromQL names only
                metrics a real card-server scrape shows
    main        walks deploy/, dispatches, reports; main() is the entry point

Run from the repository root (it reads deploy/), through scripts/check-deploy.sh.
"""
