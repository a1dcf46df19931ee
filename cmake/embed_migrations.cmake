# Writes OUTPUT, a C++ source defining card::storage::kMigrations from the
# numbered .sql files in MIGRATIONS_DIR (NNNN_name.sql), in version order.
file(GLOB sql_files "${MIGRATIONS_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT sql_files)
set(body "")
foreach(path IN LISTS sql_files)
  get_filename_component(file_name "${path}" NAME_WE)
  string(SUBSTRING "${file_name}" 0 4 version)
  string(REGEX REPLACE "^0+" "" version "${version}")
  file(READ "${path}" sql)
  string(APPEND body "  {${version}, \"${file_name}\", R\"card_sql(${sql})card_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from server/storage/migrations by cmake/embed_migrations.cmake.\n"
"#include \"storage/migrations.h\"\n\n"
"namespace card::storage {\n"
"const std::vector<Migration>& Migrations() {\n"
"  static const std::vector<Migration> kMigrations = {\n${body}  };\n"
"  return kMigrations;\n}\n}  // namespace card::storage\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
