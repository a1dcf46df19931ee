# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# shellcheck shell=bash
# Sourced, not run: throwaway certificates for tests and local clusters, made
# with the openssl command (EC P-256, SHA-256). Never for production: the keys
# are unencrypted files and the CAs live two days.
#
#   source scripts/lib/certs.sh
#   card_ca DIR ca                                   # DIR/ca.crt, DIR/ca.key
#   card_cert DIR ca server card-server "DNS:localhost,IP:127.0.0.1"
#   card_cert DIR ca gateway gateway "URI:spiffe://cards.test/sa/gateway"
#   card_cert DIR ca old gateway "URI:spiffe://cards.test/sa/gateway" expired
#
# Every leaf may serve and present itself (serverAuth and clientAuth), so a
# server's certificate can also be its health probe's client certificate.

# card_ca DIR NAME: a self-signed CA certificate DIR/NAME.crt with key DIR/NAME.key.
card_ca() {
  local dir=$1 name=$2
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -days 2 -subj "/O=CardService test/CN=$name" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/$name.key" -out "$dir/$name.crt" 2>/dev/null || return 1
  chmod 600 "$dir/$name.key"
}

# card_cert DIR CA NAME CN SANS [expired]: DIR/NAME.crt and DIR/NAME.key, issued
# by DIR/CA.crt, subject CN=CN, subjectAltName SANS ("URI:...,DNS:..."). With
# "expired": valid only on 1-2 January 2020.
card_cert() {
  local dir=$1 ca=$2 name=$3 cn=$4 sans=$5 validity=${6:-valid}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -subj "/O=CardService test/CN=$cn" -keyout "$dir/$name.key" -out "$dir/$name.csr" \
    2>/dev/null || return 1
  chmod 600 "$dir/$name.key"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=$sans" >"$dir/$name.ext"
  if [ "$validity" = expired ]; then
    _card_cert_backdated "$dir" "$ca" "$name" || return 1
  else
    openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
      -set_serial "0x$(openssl rand -hex 12)" -days 2 -sha256 -extfile "$dir/$name.ext" \
      -out "$dir/$name.crt" 2>/dev/null || return 1
  fi
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

# openssl x509 cannot set dates in the past; openssl ca can, given a database.
_card_cert_backdated() {
  local dir=$1 ca=$2 name=$3 db
  db=$(mktemp -d "$dir/ca-db.XXXXXX") || return 1
  : >"$db/index.txt"
  openssl rand -hex 12 >"$db/serial"
  cat >"$db/ca.cnf" <<EOF
[ca]
default_ca = backdating_ca
[backdating_ca]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
unique_subject = no
policy = any_subject
[any_subject]
organizationName = optional
commonName = supplied
EOF
  openssl ca -batch -notext -config "$db/ca.cnf" -cert "$dir/$ca.crt" -keyfile "$dir/$ca.key" \
    -startdate 20200101000000Z -enddate 20200102000000Z -extfile "$dir/$name.ext" \
    -in "$dir/$name.csr" -out "$dir/$name.crt" >/dev/null 2>&1 || { rm -rf "$db"; return 1; }
  rm -rf "$db"
}
