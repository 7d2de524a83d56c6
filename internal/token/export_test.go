package token

import "crypto/rand"

// SignRawForTest signs arbitrary header and payload text with the key that
// signs now, so black-box tests can reach the checks that follow the signature
// (duplicate claims, types, times) with content Sign would never produce.
func (k *Keyring) SignRawForTest(header, payload string) string {
	key := k.snap.Load().signer(k.cfg.Now())
	in := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	sig, err := key.sign(rand.Reader, []byte(in))
	if err != nil {
		panic(err)
	}
	return in + "." + b64.EncodeToString(sig)
}
