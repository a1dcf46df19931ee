# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Writes OUTPUT, a C++ source defining card::storage::Migrations() from the
# numbered .sql files in MIGRATIONS_DIR (NNNN_name.sql), in version order, and
# card::storage::Definitions() from the .sql files in DEFINITIONS_DIR
# (NN_name.sql), in file-name order, which is their dependency order.
function(card_embed_sql_files out_var dir pattern version_digits)
  file(GLOB sql_files "${dir}/${pattern}")
  list(SORT sql_files)
  set(body "")
  foreach(path IN LISTS sql_files)
    get_filename_component(file_name "${path}" NAME_WE)
    string(SUBSTRING "${file_name}" 0 ${version_digits} version)
    string(REGEX REPLACE "^0+" "" version "${version}")
    if(version STREQUAL "")
      set(version 0)
    endif()
    file(READ "${path}" sql)
    string(APPEND body "  {${version}, \"${file_name}\", R\"card_sql(${sql})card_sql\"},\n")
  endforeach()
  set(${out_var} "${body}" PARENT_SCOPE)
endfunction()

card_embed_sql_files(migrations "${MIGRATIONS_DIR}" "[0-9][0-9][0-9][0-9]_*.sql" 4)
card_embed_sql_files(definitions "${DEFINITIONS_DIR}" "[0-9][0-9]_*.sql" 2)
file(WRITE "${OUTPUT}.tmp"
"// Generated from server/storage/migrations and server/storage/definitions by\n"
"// cmake/embed_migrations.cmake.\n"
"#include \"server/storage/migrations.h\"\n\n"
"namespace card::storage {\n"
"const std::vector<Migration>& Migrations() {\n"
"  static const std::vector<Migration> kMigrations = {\n${migrations}  };\n"
"  return kMigrations;\n}\n"
"const std::vector<Migration>& Definitions() {\n"
"  static const std::vector<Migration> kDefinitions = {\n${definitions}  };\n"
"  return kDefinitions;\n}\n"
"}  // namespace card::storage\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
