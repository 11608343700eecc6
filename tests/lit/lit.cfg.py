# lit configuration of Brick's FileCheck tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Brick"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = config.brick_test_src_root
config.test_exec_root = config.brick_test_obj_root

config.substitutions.append(("%brick_src_root", config.brick_src_root))
config.substitutions.append(("%models", config.brick_models_dir))

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Brick's tools first, then FileCheck, not and count from LLVM.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.brick_tools_dir, config.llvm_tools_dir]
tools = [
    ToolSubst("brick-opt", unresolved="fatal"),
    ToolSubst("brickc", unresolved="fatal"),
    ToolSubst("brick-run", unresolved="fatal"),
    ToolSubst("brick-demo-model", unresolved="fatal"),
    ToolSubst("brick-compare-logits", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
