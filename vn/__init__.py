"""Vietnamese language and domain knowledge shared by ingest/ and index/.

text       NFC, diacritic folding, letter classes
words      sentences and word segmentation (underthesea)
stopwords  function words and question words
numbers    document numbers (số ký hiệu), reference keys, reference queries
places     the 63 provinces and their spellings
cite       a document's citation in administrative form, dates
"""
