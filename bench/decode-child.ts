import { type DecodeMix, type DecodeVariant, measureDecodeVariant } from './decode-aggregate-bench';

/**
 * One mix and one way of decoding of the decode part, in a process of its own (see
 * runDecodeAggregate). Prints one JSON line.
 * Usage: decode-child.js MIX VARIANT FLOWS EDGES REPEATS (MIX: l4|http|dns|generated; VARIANT: fast|json|protobufjs)
 */
function main(): void {
  const [mix, variant, flows, edges, repeats] = process.argv.slice(2);
  if (!['l4', 'http', 'dns', 'generated'].includes(mix ?? '') || !['fast', 'json', 'protobufjs'].includes(variant ?? ''))
    throw new Error(
      `usage: decode-child.js l4|http|dns|generated fast|json|protobufjs FLOWS EDGES REPEATS (got ${process.argv.slice(2).join(' ')})`,
    );
  const result = measureDecodeVariant({
    mix: mix as DecodeMix,
    variant: variant as DecodeVariant,
    flows: Number(flows),
    edges: Number(edges),
    repeats: Number(repeats),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
