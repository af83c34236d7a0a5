// The bridge: how the encoder's final states become the decoder's initial state when layer counts, sizes or
// directions differ. Each encoder layer's final state has its directions joined ([h_fwd | h_bwd], and
// [h_fwd | h_bwd | c_fwd | c_bwd] for an LSTM, so it is again [h | c]), `width` = directions·encoder units wide
// per block. The decoder's initial state is its layers' states side by side, [B, decoderLayers·blocks·units].
//
//   'copy'  decoder layer i starts from encoder layer i + (encoderLayers − decoderLayers): the top layers pass
//           their states up unchanged. Needs width = decoder units and encoderLayers ≥ decoderLayers.
//   'dense' tanh(W·[all encoder finals, bottom first] + b): one learnt layer, any counts and sizes.
//   'zero'  the decoder starts from zeros (with attention, the source reaches it through the context alone).
//   'auto'  'copy' when the layer counts are equal and the widths match, otherwise 'dense' (default). The
//           default model (one layer each side, equal sizes) thus copies, as the TensorFlow seq2seq tutorial's model does.
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import { dense } from '../layers/dense.js';
import { ToolkitError } from '../errors.js';

export type BridgeKind = 'auto' | 'copy' | 'dense' | 'zero';
export const BRIDGE_KINDS: readonly BridgeKind[] = ['auto', 'copy', 'dense', 'zero'];

export interface BridgeOptions {
  kind: BridgeKind;
  encoderLayers: number;
  /** Joined h width of one encoder layer: directions·encoder units. */
  encoderWidth: number;
  decoderLayers: number;
  decoderUnits: number;
  /** H-wide blocks in a state: 2 for the LSTM's [h | c], else 1. */
  blocks: number;
}

export class BridgeError extends ToolkitError {
  override name = 'BridgeError';
}

export class Bridge {
  /** The bridge in use: 'auto' resolved. */
  readonly kind: 'copy' | 'dense' | 'zero';

  constructor(
    readonly options: BridgeOptions,
    private readonly params: Params,
    private readonly prefix = 'bridge',
  ) {
    const o = options;
    const fits = o.encoderWidth === o.decoderUnits;
    if (o.kind === 'copy' && !(fits && o.encoderLayers >= o.decoderLayers)) {
      throw new BridgeError(
        `bridge 'copy' needs encoder layers ≥ decoder layers and the encoder's joined width (directions × units = ${o.encoderWidth}) ` +
          `equal to the decoder's units (${o.decoderUnits}); got ${o.encoderLayers} → ${o.decoderLayers} layers: use 'dense' or 'zero'`,
      );
    }
    this.kind = o.kind === 'auto' ? (fits && o.encoderLayers === o.decoderLayers ? 'copy' : 'dense') : o.kind;
    if (this.kind === 'dense') {
      const inputs = o.encoderLayers * o.blocks * o.encoderWidth;
      params.create(`${prefix}/W`, [inputs, o.decoderLayers * o.blocks * o.decoderUnits], {
        kind: 'uniform',
        scale: 1 / Math.sqrt(inputs),
      });
      params.create(`${prefix}/b`, [o.decoderLayers * o.blocks * o.decoderUnits], { kind: 'zeros' });
    }
  }

  /** finals: per encoder layer [B, blocks·encoderWidth] → the decoder's initial state [B, decoderLayers·blocks·units]. */
  apply(finals: tf.Tensor2D[]): tf.Tensor2D {
    const o = this.options;
    const B = finals[0]!.shape[0];
    if (this.kind === 'copy') {
      const used = finals.slice(o.encoderLayers - o.decoderLayers);
      return used.length === 1 ? used[0]! : tf.concat(used, 1);
    }
    if (this.kind === 'zero') return tf.zeros([B, o.decoderLayers * o.blocks * o.decoderUnits]);
    return tf.tidy(() => {
      const joined = finals.length === 1 ? finals[0]! : tf.concat(finals, 1);
      return tf.tanh(
        dense(
          joined,
          this.params.get(`${this.prefix}/W`) as unknown as tf.Tensor2D,
          this.params.get(`${this.prefix}/b`) as unknown as tf.Tensor1D,
        ),
      );
    });
  }
}
