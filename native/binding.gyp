{
  "targets": [
    {
      "target_name": "logwire_map",
      "sources": ["logwire_map.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "xcode_settings": {
        "GCC_C_LANGUAGE_STANDARD": "gnu11",
        "WARNING_CFLAGS": ["-Wall", "-Wextra"]
      }
    }
  ]
}
