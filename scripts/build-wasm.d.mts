// Types of scripts/build-wasm.mjs, for the test that checks the generated module is current.
export declare const WAT_PATH: string;
export declare const GENERATED_PATH: string;
export declare function compileWat(text: string, filename?: string): Promise<Uint8Array>;
export declare function generatedModule(bytes: Uint8Array): string;
