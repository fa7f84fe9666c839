//! Hostile components built here rather than kept as binaries: compile bombs (small components
//! that are expensive to compile) and an adapter with chosen imports. Each poses as an adapter by
//! its names (imports and exports), so that the checks before compiling let it through to the
//! compiler. Shared with the CLI's tests
//! and its soak bench (`#[path]`).

use wasm_encoder::{
    BlockType, CodeSection, Component, ExportKind, ExportSection, Function, FunctionSection,
    Instruction, Module, ModuleSection, TypeSection, ValType,
};

/// A component wrapping one core module with one exported function of `locals` i64 locals, whose
/// body nests `depth` loops around a chain that reads and writes every local: every local is
/// live across every back edge, which makes register allocation superlinear. 20 000 locals take
/// minutes to compile in-process (measured in docs/performance.md).
pub fn compile_bomb(locals: u32, depth: u32) -> Vec<u8> {
    compile_bomb_importing(POSE, locals, depth)
}

/// [`compile_bomb`] importing `import` instead of an allowed interface.
pub fn compile_bomb_importing(import: &str, locals: u32, depth: u32) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut exports = ExportSection::new();
    exports.export("bomb", ExportKind::Func, 0);
    let mut body = Function::new([(locals, ValType::I64)]);
    for _ in 0..depth {
        body.instruction(&Instruction::Loop(BlockType::Empty));
    }
    for i in 0..locals {
        body.instruction(&Instruction::LocalGet(i))
            .instruction(&Instruction::LocalGet((i * 7 + 3) % locals))
            .instruction(&Instruction::I64Add)
            .instruction(&Instruction::LocalSet((i + 1) % locals));
    }
    for _ in 0..depth {
        body.instruction(&Instruction::LocalGet(0))
            .instruction(&Instruction::I32WrapI64)
            .instruction(&Instruction::BrIf(0))
            .instruction(&Instruction::End);
    }
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&exports)
        .section(&code);
    posing_as_adapter(&[import], Some(&module))
}

/// A component wrapping one core module with `functions` small functions: compiling it holds
/// ≈ 6 KiB per function (30 000 take ≈ 200 MiB and 9 s in the compile worker of a debug build;
/// 100 000 take 614 MiB and 43 s).
pub fn many_functions(functions: u32) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut declared = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    for _ in 0..3 {
        body.instruction(&Instruction::I32Const(1))
            .instruction(&Instruction::Drop);
    }
    body.instruction(&Instruction::End);
    for _ in 0..functions {
        declared.function(0);
        code.function(&body);
    }
    let mut module = Module::new();
    module.section(&types).section(&declared).section(&code);
    posing_as_adapter(&[POSE], Some(&module))
}

/// A component wrapping one core module with one function of `depth` nested `block`s: a deep
/// control stack for the compiler that is cheap in the end (20 000 take ≈ 1 s and ≈ 30 MiB in the
/// compile worker of a debug build), so it compiles and is refused only when linked.
pub fn nested_blocks(depth: u32) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut exports = ExportSection::new();
    exports.export("blocks", ExportKind::Func, 0);
    let mut body = Function::new([]);
    for _ in 0..depth {
        body.instruction(&Instruction::Block(BlockType::Empty));
    }
    for _ in 0..depth {
        body.instruction(&Instruction::End);
    }
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut module = Module::new();
    module
        .section(&types)
        .section(&functions)
        .section(&exports)
        .section(&code);
    posing_as_adapter(&[POSE], Some(&module))
}

/// The allowed interface a bomb imports to pose as an adapter.
const POSE: &str = "wasi:cli/environment@0.2.0";

/// A component of the adapter world by its names: it imports `names` (empty instances) and
/// re-exports the first as the contract's interface, so it passes every check made on names
/// before compiling; `module`, if any, is inside it, for the compiler to work through before the
/// link finds the component hollow.
fn posing_as_adapter(names: &[&str], module: Option<&Module>) -> Vec<u8> {
    use wasm_encoder::{
        ComponentExportKind, ComponentExportSection, ComponentImportSection, ComponentTypeRef,
        ComponentTypeSection, InstanceType,
    };
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    let mut imports = ComponentImportSection::new();
    for name in names {
        imports.import(*name, ComponentTypeRef::Instance(0));
    }
    let mut exports = ComponentExportSection::new();
    exports.export(
        "kommune:sandkasse/adapter-api@0.1.0",
        ComponentExportKind::Instance,
        0,
        None,
    );
    let mut component = Component::new();
    component.section(&types).section(&imports);
    if let Some(module) = module {
        component.section(&ModuleSection(module));
    }
    component.section(&exports);
    component.finish()
}

/// A component of the adapter world that also imports `names` (see [`posing_as_adapter`]).
pub fn adapter_importing(names: &[&str]) -> Vec<u8> {
    posing_as_adapter(names, None)
}
