{
  # Dawn writes its adapter start-up warnings straight to file descriptor 2 from native code, where
  # no JavaScript hook reaches: this addon lets the device module point fd 2 at /dev/null while the
  # adapter is requested, and back afterwards.
  "targets": [
    {
      "target_name": "stdio",
      "sources": ["stdio.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"]
    }
  ]
}
