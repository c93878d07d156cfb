// Types for the validator generator, so that tests can call it.
export const schemaPath: string;
export const outputPath: string;
export const digestPath: string;
export const ajvOptions: Record<string, unknown>;
export function generateValidatorSource(schema?: unknown): string;
export function generateDigestSource(validatorSource: string): string;
