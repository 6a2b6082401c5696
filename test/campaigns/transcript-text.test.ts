import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CampaignFileError } from '../../src/campaigns/errors.ts';
import { parseTranscriptText } from '../../src/campaigns/transcript.ts';
import { parseUploadedTranscript } from '../../src/campaigns/uploaded-transcript.ts';
import { CRD3_DIR } from '../support/fixtures.ts';

const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CampaignFileError) return err.message;
    throw err;
  }
  throw new Error('no CampaignFileError');
};

describe('parseTranscriptText', () => {
  it('reads one "Speaker: text" turn per line, numbered in order, skipping blank lines, BOM and CRLF', () => {
    const t = parseTranscriptText('\uFEFFMatt: You arrive at the gates.\r\n\r\nGrog (Travis):  I knock: loudly.\r\n', 'session.txt');
    expect(t.entries).toEqual([
      { turn: 1, speaker: 'Matt', text: 'You arrive at the gates.' },
      { turn: 2, speaker: 'Grog (Travis)', text: 'I knock: loudly.' },
    ]);
    expect([t.firstTurn, t.lastTurn]).toEqual([1, 2]);
  });

  it('refuses a line without a speaker, with nothing said, or a speaker too long, naming the line', () => {
    expect(problem(() => parseTranscriptText('A: b\nno colon here\n', 's.txt'))).toBe(
      's.txt: line 2: expected "Speaker: text" (a name of at most 100 characters, a colon, then what they say or do)',
    );
    expect(problem(() => parseTranscriptText(': nobody\n', 's.txt'))).toMatch(/^s\.txt: line 1: expected "Speaker: text"/);
    expect(problem(() => parseTranscriptText('\nMatt:   \n', 's.txt'))).toBe('s.txt: line 2: nothing follows "Matt:"');
    expect(problem(() => parseTranscriptText(`${'x'.repeat(101)}: hi\n`, 's.txt'))).toMatch(/^s\.txt: line 1: expected/);
    expect(problem(() => parseTranscriptText('\n\n', 's.txt'))).toBe('s.txt: the transcript has no entries');
  });
});

describe('parseUploadedTranscript', () => {
  it('tells the formats apart by name and content', () => {
    const bytes = (s: string) => Buffer.from(s);
    expect(parseUploadedTranscript('notes.md', bytes('A: b\n')).format).toBe('text');
    expect(parseUploadedTranscript('t.jsonl', bytes('{"speaker":"A","text":"b"}\n')).format).toBe('jsonl');
    expect(parseUploadedTranscript('transcript.json', bytes('[{"agent":"dm","content":"hi"}]')).format).toBe('autodungeon');
    const crd3 = parseUploadedTranscript('C1E001.json', readFileSync(path.join(CRD3_DIR, 'C1E001.json')));
    expect(crd3.format).toBe('crd3');
    expect(crd3.attribution).toMatch(/CRD3/);
  });

  it('refuses text that is not UTF-8 and JSON of neither shape', () => {
    expect(problem(() => parseUploadedTranscript('a.txt', Buffer.from([0xff, 0xfe, 0x00])))).toBe('a.txt: not UTF-8 text');
    expect(problem(() => parseUploadedTranscript('a.json', Buffer.from('{"turns": []}')))).toMatch(/^a\.json: expected autodungeon's/);
  });
});
