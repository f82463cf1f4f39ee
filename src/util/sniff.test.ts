import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectContentType } from './sniff.js';

test('content types sniffed as Go http.DetectContentType', () => {
  const cases: [string | Buffer, string][] = [
    ['GET /a/b ', 'text/plain; charset=utf-8'],
    ['{"json": true}', 'text/plain; charset=utf-8'],
    ['  <!doctype html><p>x', 'text/html; charset=utf-8'],
    ['<html>', 'text/html; charset=utf-8'],
    ['<p class=x>', 'text/html; charset=utf-8'],
    ['<pre>', 'text/plain; charset=utf-8'],
    ['\n<?xml version="1.0"?>', 'text/xml; charset=utf-8'],
    ['%PDF-1.4', 'application/pdf'],
    [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), 'image/png'],
    [Buffer.from([0x1f, 0x8b, 0x08, 0]), 'application/x-gzip'],
    [Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1'), 'image/webp'],
    [Buffer.from([0x01, 0x02, 0x03]), 'application/octet-stream'],
  ];
  for (const [data, want] of cases) assert.equal(detectContentType(Buffer.isBuffer(data) ? data : Buffer.from(data)), want, String(data));
});
