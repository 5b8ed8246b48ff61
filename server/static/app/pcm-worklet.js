// VoiceCart microphone worklet: the context's audio (44.1/48 kHz, any channel count) to
// 16 kHz mono 16-bit PCM in 20 ms frames, posted to the page as transferable ArrayBuffers.
//
// Resampling is a windowed-sinc low-pass evaluated at fractional input positions: a cutoff
// just under 8 kHz keeps what speech-to-text needs and stops aliasing, with no build step
// and no library. Messages in: "start", "stop" (flushes, then posts {type: "flushed"}).
"use strict";

const ZERO_CROSSINGS = 8;
const TABLE_STEPS = 256; // kernel samples per input sample (linear interpolation between)

class PcmResampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.targetRate = opts.targetRate || 16000;
    this.ratio = sampleRate / this.targetRate; // input samples per output sample
    // Cutoff in cycles per input sample: 0.45 of the output rate (7.2 kHz at 16 kHz).
    this.cutoff = 0.45 / Math.max(this.ratio, 1);
    this.halfWidth = Math.ceil(ZERO_CROSSINGS / (2 * this.cutoff));
    this.table = new Float32Array(this.halfWidth * TABLE_STEPS + 2);
    for (let i = 0; i < this.table.length; i++) this.table[i] = this.exactKernel(i / TABLE_STEPS);
    this.buffer = new Float32Array(0);
    this.position = 0; // where the next output sample sits, in input samples from buffer[0]
    this.frameSize = Math.round(this.targetRate * 0.02);
    this.frame = new Int16Array(this.frameSize);
    this.filled = 0;
    this.active = Boolean(opts.active); // true: capture from the first block (offline tests)
    this.port.onmessage = (event) => {
      if (event.data === "start") {
        this.active = true;
        this.buffer = new Float32Array(0);
        this.position = 0;
        this.filled = 0;
      } else if (event.data === "stop") {
        this.active = false;
        this.flush();
        this.port.postMessage({ type: "flushed" });
      }
    };
  }

  kernel(distance) {
    const at = Math.abs(distance) * TABLE_STEPS;
    const i = Math.floor(at);
    if (i + 1 >= this.table.length) return 0;
    return this.table[i] + (this.table[i + 1] - this.table[i]) * (at - i);
  }

  exactKernel(distance) {
    // Low-pass impulse response (unit DC gain) times a Blackman window.
    const x = 2 * this.cutoff * distance;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const w = distance / this.halfWidth;
    if (w <= -1 || w >= 1) return 0;
    const window = 0.42 + 0.5 * Math.cos(Math.PI * w) + 0.08 * Math.cos(2 * Math.PI * w);
    return 2 * this.cutoff * sinc * window;
  }

  append(samples) {
    const joined = new Float32Array(this.buffer.length + samples.length);
    joined.set(this.buffer, 0);
    joined.set(samples, this.buffer.length);
    this.buffer = joined;
  }

  resample(final) {
    const buffer = this.buffer;
    const limit = final ? buffer.length : buffer.length - this.halfWidth;
    while (this.position < limit) {
      const centre = this.position;
      const first = Math.max(0, Math.ceil(centre - this.halfWidth));
      const last = Math.min(buffer.length - 1, Math.floor(centre + this.halfWidth));
      let sum = 0;
      for (let k = first; k <= last; k++) sum += buffer[k] * this.kernel(centre - k);
      this.emit(sum);
      this.position += this.ratio;
    }
    const drop = Math.max(0, Math.floor(this.position - this.halfWidth));
    if (drop > 0) {
      this.buffer = buffer.slice(drop);
      this.position -= drop;
    }
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.frame[this.filled++] = clipped < 0 ? clipped * 32768 : clipped * 32767;
    if (this.filled === this.frameSize) this.post();
  }

  post() {
    if (this.filled === 0) return;
    const out = this.frame.slice(0, this.filled);
    this.port.postMessage(out.buffer, [out.buffer]);
    this.filled = 0;
  }

  flush() {
    this.resample(true);
    this.post();
    this.buffer = new Float32Array(0);
    this.position = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!this.active || !input || input.length === 0) return true;
    let mono = input[0];
    if (input.length > 1) {
      mono = new Float32Array(input[0].length);
      for (const channel of input) {
        for (let i = 0; i < channel.length; i++) mono[i] += channel[i] / input.length;
      }
    }
    this.append(mono);
    this.resample(false);
    return true;
  }
}

registerProcessor("pcm-resampler", PcmResampler);
