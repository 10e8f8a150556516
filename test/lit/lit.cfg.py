# lit configuration for scopeprof's tool tests.
import os

import lit.formats

config.name = "scopeprof"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".test", ".cpp", ".c"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)

config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
config.environment["LC_ALL"] = "C"

bin_dir = config.scopeprof_bin_dir
config.substitutions.append(("%scopeprof-rewrite", os.path.join(bin_dir, "rewrite", "scopeprof-rewrite")))
config.substitutions.append(("%scopeprof", os.path.join(bin_dir, "cli", "scopeprof")))
config.substitutions.append(("%installed_bindir", config.scopeprof_installed_bin_dir))
config.substitutions.append(("%clangxx", os.path.join(config.llvm_tools_dir, "clang++")))
config.substitutions.append(("%clang", os.path.join(config.llvm_tools_dir, "clang")))
config.substitutions.append(("%runtime_include", os.path.join(config.scopeprof_source_dir, "runtime", "include")))
config.substitutions.append(("%runtime_lib", os.path.join(os.path.dirname(bin_dir), "runtime")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
