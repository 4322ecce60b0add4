import { DECODE_MIXES, type DecodeMix, type DecodeVariant, measureDecodeVariant } from './decode-aggregate-bench';

/**
 * One mix and one way of decoding of the decode part, in a process of its own (see
 * runDecodeAggregate). Prints one JSON line.
 * Usage: decode-child.js MIX VARIANT FLOWS EDGES REPEATS (MIX: l4|http|dns|generated|scan; VARIANT: fast|json|protobufjs)
 */
function main(): void {
  const [mix, variant, flows, edges, repeats] = process.argv.slice(2);
  if (!DECODE_MIXES.includes(mix as DecodeMix) || !['fast', 'json', 'protobufjs'].includes(variant ?? ''))
    throw new Error(
      `usage: decode-child.js ${DECODE_MIXES.join('|')} fast|json|protobufjs FLOWS EDGES REPEATS (got ${process.argv.slice(2).join(' ')})`,
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
