{
  # OMPI_SKIP_MPICXX: the deprecated MPI C++ bindings are not used (and would need libmpi_cxx).
  # Compiler and linker flags come from Open MPI's own wrapper (mpicc --showme), so the addon builds
  # against whichever Open MPI the host has, wherever its distribution puts the headers. The
  # libraries go after the object files ("libraries", not "ldflags"): with --as-needed an -lmpi
  # ahead of them is dropped and the addon fails to load on undefined symbols.
  "targets": [
    {
      "target_name": "mpi",
      "sources": ["mpi.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc": ["<!@(mpicc --showme:compile)"],
      "libraries": ["<!@(mpicc --showme:link)", "-ldl"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "OMPI_SKIP_MPICXX"]
    }
  ]
}
