//! A compile bomb: a small component that is expensive to compile, built here rather than kept
//! as a binary. Shared with the CLI's tests (`#[path]`).

use wasm_encoder::{
    BlockType, CodeSection, Component, ExportKind, ExportSection, Function, FunctionSection,
    Instruction, Module, ModuleSection, TypeSection, ValType,
};

/// A component wrapping one core module with one exported function of `locals` i64 locals, whose
/// body nests `depth` loops around a chain that reads and writes every local: every local is
/// live across every back edge, which makes register allocation superlinear. 20 000 locals take
/// minutes to compile in-process (measured in docs/performance.md).
pub fn compile_bomb(locals: u32, depth: u32) -> Vec<u8> {
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
    let mut component = Component::new();
    component.section(&ModuleSection(&module));
    component.finish()
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
    let mut component = Component::new();
    component.section(&ModuleSection(&module));
    component.finish()
}
