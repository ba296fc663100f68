// The tiny model's SentencePiece-style vocabulary: control tokens, the 256 byte-fallback tokens
// (so any text tokenizes), and ▁-prefixed English word pieces whose prefixes are all present so
// llama.cpp's SPM merge loop can build every word from its characters.

/** llama.cpp token types (llama_token_type) */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface Vocabulary {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  unkId: number;
  bosId: number;
  eosId: number;
  /** chat control tokens, present only when the vocabulary was built with them */
  imStartId?: number;
  imEndId?: number;
}

const SPACE = "\u2581"; // ▁ stands for a space in SentencePiece pieces

const WORDS = (
  "the of and to a in is it you that he was for on are with as i his they be at one have this from or had by " +
  "not word but what some we can out other were all there when up use your how said an each she which do their " +
  "time if will way about many then them write would like so these her long make thing see him two has look more " +
  "day could go come did number sound no most people my over know water than call first who may down side been " +
  "now find any new work part take get place made live where after back little only round man year came show " +
  "every good me give our under name very through just form sentence great think say help low line differ turn " +
  "cause much mean before move right boy old too same tell does set three want air well also play small end put " +
  "home read hand port large spell add even land here must big high such follow act why ask men change went light " +
  "kind off need house picture try us again animal point mother world near build self earth father head stand own " +
  "page should country found answer school grow study still learn plant cover food sun four between state keep eye " +
  "never last let thought city tree cross farm hard start might story saw far sea draw left late run while press " +
  "close night real life few north open seem together next white children begin got walk example ease paper group " +
  "always music those both mark often letter until mile river car feet care second book carry took science eat " +
  "room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain " +
  "girl usual young ready above ever red list though feel talk bird soon body dog family direct pose leave song " +
  "measure door product black short numeral class wind question happen complete ship area half rock order fire " +
  "south problem piece told knew pass since top whole king space heard best hour better true during hundred five " +
  "remember step early hold west ground interest reach fast verb sing listen six table travel less morning ten " +
  "simple several vowel toward war lay against pattern slow center love person money serve appear road map rain " +
  "rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan " +
  "figure star box noun field rest correct able pound done beauty drive stood contain front teach week final gave " +
  "green oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street inch " +
  "model compute network token hello"
).split(" ");

const CAPITALISED = ["The", "I", "It", "We", "You", "He", "She", "They", "This", "What", "How", "Hello", "Tessera"];
const SINGLE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?;:'\"-()[]{}/\\@#$%&*+=<>_~`|^";

function byteToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
}

/** Builds the vocabulary; deterministic, so token ids are stable across versions of this file. */
export function buildVocabulary(options: { chatTokens: boolean }): Vocabulary {
  const tokens: string[] = [];
  const types: number[] = [];
  const scores: number[] = [];
  const seen = new Set<string>();
  const add = (piece: string, type: number, score: number): number => {
    if (seen.has(piece)) return -1;
    seen.add(piece);
    tokens.push(piece);
    types.push(type);
    scores.push(score);
    return tokens.length - 1;
  };

  const unkId = add("<unk>", TokenType.UNKNOWN, 0);
  const bosId = add("<s>", TokenType.CONTROL, 0);
  const eosId = add("</s>", TokenType.CONTROL, 0);
  for (let b = 0; b < 256; b++) add(byteToken(b), TokenType.BYTE, 0);
  const chat = options.chatTokens
    ? { imStartId: add("<|im_start|>", TokenType.CONTROL, 0), imEndId: add("<|im_end|>", TokenType.CONTROL, 0) }
    : {};

  // SPM merges the adjacent pair whose union has the highest score; giving earlier (more common)
  // words higher scores, and every ▁-prefix of a word a piece, makes words assemble left to right.
  let rank = 0;
  add(SPACE, TokenType.NORMAL, -rank++);
  for (const word of [...WORDS, ...CAPITALISED]) {
    const piece = SPACE + word;
    for (let end = 2; end <= piece.length; end++) {
      if (add(piece.slice(0, end), TokenType.NORMAL, -rank) >= 0) rank++;
    }
  }
  for (const ch of SINGLE_CHARS) add(ch, TokenType.NORMAL, -rank++);

  return {
    tokens,
    scores: Float32Array.from(scores),
    types: Int32Array.from(types),
    unkId,
    bosId,
    eosId,
    ...chat,
  };
}
